/* pci_priv.h - PCI configuration space layout (PCI Local Bus Specification
 * 3.0, chapter 6) used by pci.c and the drivers that read capabilities. */
#ifndef OM_PCI_PRIV_H
#define OM_PCI_PRIV_H

#define PCI_CONFIG_ADDRESS 0xcf8 /**< 3.2.2.3.2 CONFIG_ADDRESS */
#define PCI_CONFIG_DATA 0xcfc    /**< 3.2.2.3.2 CONFIG_DATA */
#define PCI_CONFIG_ENABLE 0x80000000u

/* 6.1 type 0 and type 1 header */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001           /**< I/O space enable */
#define PCI_COMMAND_MEMORY 0x0002       /**< Memory space enable */
#define PCI_COMMAND_MASTER 0x0004       /**< Bus master enable */
#define PCI_COMMAND_INTX_DISABLE 0x0400 /**< Interrupt disable */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x0010 /**< Capabilities list present */
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_TYPE_MULTI 0x80 /**< Multi-function device */
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_VENDOR_NONE 0xffff

/* 6.2.5.1 base address registers */
#define PCI_BAR_IO 0x1
#define PCI_BAR_IO_MASK 0xfffffffcu
#define PCI_BAR_MEM_TYPE 0x6
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_MASK 0xfffffff0u

/* 6.7 capabilities */
#define PCI_CAP_ID 0
#define PCI_CAP_NEXT 1
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09 /**< Vendor specific */
#define PCI_CAP_MAX 48       /**< (256 - 64) / 4 entries at most */

#endif
