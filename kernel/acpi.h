/* acpi.h - the processors the firmware lists in ACPI's MADT.
 *
 * acpi_madt_parse reads a MADT from a buffer and checks every length and
 * the checksum, so a broken table gives an error, never a wild read (the
 * host's unit tests feed it bad tables). acpi_find_cpus finds the table
 * through the RSDP (the UEFI loader's, or the BIOS areas' search) in the
 * direct map. Main-loop context, at boot. */
#ifndef OM_ACPI_H
#define OM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 64

/* The tables' little-endian fields, at any alignment. */
static inline uint32_t acpi_rd32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t acpi_rd64(const uint8_t *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }

struct acpi_cpus {
	uint64_t lapic_pa;              /* the local APICs' register window */
	uint32_t n;                     /* enabled processors, the boot one among them */
	uint32_t apic_id[ACPI_MAX_CPUS];
	uint32_t skipped;               /* enabled ones beyond ACPI_MAX_CPUS */
};

/* Fills out from the MADT at t (len bytes, the table's own length at
 * most). Returns 0, or -1 with why in *err. */
int acpi_madt_parse(const uint8_t *t, size_t len, struct acpi_cpus *out, const char **err);

struct bootinfo;
/* The processors of this machine: 0, or -1 with why in *err (no ACPI, no
 * MADT, a broken table). */
int acpi_find_cpus(const struct bootinfo *bi, struct acpi_cpus *out, const char **err);

#endif
