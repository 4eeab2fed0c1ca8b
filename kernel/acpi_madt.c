/* acpi_madt.c - the MADT's processor entries (ACPI 6.5, 5.2.12): local
 * APIC (type 0) and local x2APIC (type 9) entries, enabled or not. */
#include <string.h>

#include "acpi.h"

#define MADT_HEADER 44         /* SDT header (36) + local APIC address + flags */
#define MADT_LAPIC 0
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define LAPIC_ENABLED 1


static void add_cpu(struct acpi_cpus *out, uint32_t apic_id)
{
	for (uint32_t i = 0; i < out->n; i++)
		if (out->apic_id[i] == apic_id)
			return; /* listed twice (a type 0 and a type 9 entry) */
	if (out->n == ACPI_MAX_CPUS) {
		out->skipped++;
		return;
	}
	out->apic_id[out->n++] = apic_id;
}

int acpi_madt_parse(const uint8_t *t, size_t len, struct acpi_cpus *out, const char **err)
{
	uint8_t sum = 0;
	uint32_t tlen;

	memset(out, 0, sizeof *out);
	if (len < MADT_HEADER || memcmp(t, "APIC", 4) != 0) {
		*err = "not a MADT";
		return -1;
	}
	tlen = acpi_rd32(t + 4);
	if (tlen < MADT_HEADER || tlen > len) {
		*err = "MADT length out of bounds";
		return -1;
	}
	for (uint32_t i = 0; i < tlen; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum != 0) {
		*err = "MADT checksum wrong";
		return -1;
	}
	out->lapic_pa = acpi_rd32(t + 36);
	for (uint32_t off = MADT_HEADER; off < tlen;) {
		uint8_t type, elen;
		if (tlen - off < 2) {
			*err = "MADT entry cut short";
			return -1;
		}
		type = t[off];
		elen = t[off + 1];
		if (elen < 2 || elen > tlen - off) {
			*err = "MADT entry length out of bounds";
			return -1;
		}
		if (type == MADT_LAPIC && elen >= 8 && (acpi_rd32(t + off + 4) & LAPIC_ENABLED))
			add_cpu(out, t[off + 3]);
		else if (type == MADT_X2APIC && elen >= 16 && (acpi_rd32(t + off + 8) & LAPIC_ENABLED))
			add_cpu(out, acpi_rd32(t + off + 4));
		else if (type == MADT_LAPIC_OVERRIDE && elen >= 12)
			out->lapic_pa = acpi_rd64(t + off + 4);
		off += elen;
	}
	if (out->n == 0) {
		*err = "MADT lists no enabled processor";
		return -1;
	}
	return 0;
}
