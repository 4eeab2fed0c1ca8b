/* acpi.c - from the RSDP to the MADT (ACPI 6.5, 5.2.5-5.2.8), reading the
 * firmware's tables through the direct map. Every pointer the tables hold
 * is checked against the direct map before it is followed. */
#include <string.h>

#include "acpi.h"
#include "bootinfo.h"
#include "mm.h"

#define RSDP_V1_LEN 20
#define SDT_HEADER 36
#define EBDA_SEG_PTR 0x40e
#define BIOS_ROM_LO 0xe0000
#define BIOS_ROM_HI 0x100000
#define TABLE_MAX_LEN 65536


/* The bytes [pa, pa + len) through the direct map, or NULL past its end. */
static const uint8_t *phys(uint64_t pa, uint64_t len)
{
	if (pa == 0 || len > vm_direct_map_end() || pa > vm_direct_map_end() - len)
		return NULL;
	return phys_to_virt(pa);
}

static int sum_ok(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s = (uint8_t)(s + *p++);
	return s == 0;
}

/* The BIOS's RSDP: on a 16-byte boundary in the EBDA's first KiB or in
 * 0xE0000-0xFFFFF, "RSD PTR " with a valid checksum. */
static uint64_t rsdp_search(void)
{
	const uint8_t *bda = phys(EBDA_SEG_PTR, 2);
	uint64_t ebda = bda ? (uint64_t)(bda[0] | bda[1] << 8) << 4 : 0;
	uint64_t ranges[2][2] = { { ebda, ebda + 1024 }, { BIOS_ROM_LO, BIOS_ROM_HI } };

	for (int r = 0; r < 2; r++)
		for (uint64_t pa = ranges[r][0]; pa && pa + RSDP_V1_LEN <= ranges[r][1]; pa += 16) {
			const uint8_t *p = phys(pa, RSDP_V1_LEN);
			if (p && memcmp(p, "RSD PTR ", 8) == 0 && sum_ok(p, RSDP_V1_LEN))
				return pa;
		}
	return 0;
}

/* The table with this signature among the RSDT's (4-byte) or XSDT's
 * (8-byte) entries; its length in *len. */
static const uint8_t *find_table(const uint8_t *sdt, int wide, const char *sig, uint32_t *len)
{
	uint32_t n = (acpi_rd32(sdt + 4) - SDT_HEADER) / (wide ? 8 : 4);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = sdt + SDT_HEADER + i * (wide ? 8 : 4);
		uint64_t pa = wide ? acpi_rd64(e) : acpi_rd32(e);
		const uint8_t *h = phys(pa, SDT_HEADER);
		if (!h || memcmp(h, sig, 4) != 0)
			continue;
		*len = acpi_rd32(h + 4);
		if (*len < SDT_HEADER || *len > TABLE_MAX_LEN)
			return NULL;
		return phys(pa, *len);
	}
	return NULL;
}

int acpi_find_cpus(const struct bootinfo *bi, struct acpi_cpus *out, const char **err)
{
	uint64_t rsdp_pa = bi->rsdp ? bi->rsdp : rsdp_search();
	const uint8_t *rsdp = phys(rsdp_pa, RSDP_V1_LEN), *sdt, *madt;
	uint64_t sdt_pa;
	uint32_t len = 0;
	int wide;

	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) != 0 || !sum_ok(rsdp, RSDP_V1_LEN)) {
		*err = "no ACPI RSDP";
		return -1;
	}
	/* Revision 2+: the XSDT, 64-bit pointers, if its checksum holds. */
	wide = rsdp[15] >= 2 && (rsdp = phys(rsdp_pa, 36)) && sum_ok(rsdp, 36) && acpi_rd64(rsdp + 24);
	rsdp = phys(rsdp_pa, RSDP_V1_LEN);
	sdt_pa = wide ? acpi_rd64(rsdp + 24) : acpi_rd32(rsdp + 16);
	sdt = phys(sdt_pa, SDT_HEADER);
	if (!sdt || acpi_rd32(sdt + 4) < SDT_HEADER || acpi_rd32(sdt + 4) > TABLE_MAX_LEN ||
	    !(sdt = phys(sdt_pa, acpi_rd32(sdt + 4))) || !sum_ok(sdt, acpi_rd32(sdt + 4))) {
		*err = "ACPI root table missing or broken";
		return -1;
	}
	madt = find_table(sdt, wide, "APIC", &len);
	if (!madt) {
		*err = "no MADT in the ACPI tables";
		return -1;
	}
	return acpi_madt_parse(madt, len, out, err);
}
