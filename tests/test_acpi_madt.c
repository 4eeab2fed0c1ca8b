/* test_acpi_madt.c - the node's MADT parser (kernel/acpi_madt.c), built
 * for the host: the processors QEMU's tables list, and broken tables
 * (lengths, checksum, entries) refused with a reason, never read past. */
#define CHECK_PREFIX "acpi_madt/"
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "check.h"

static uint8_t t[2048];
static size_t tlen;

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void fix_sum(void)
{
	uint8_t s = 0;
	put32(t + 4, (uint32_t)tlen);
	t[9] = 0;
	for (size_t i = 0; i < tlen; i++)
		s = (uint8_t)(s + t[i]);
	t[9] = (uint8_t)-s;
}

static void start(void)
{
	memset(t, 0, sizeof t);
	memcpy(t, "APIC", 4);
	put32(t + 36, 0xfee00000);
	tlen = 44;
}

static void lapic(uint8_t apic_id, uint32_t flags)
{
	uint8_t *e = t + tlen;
	e[0] = 0;
	e[1] = 8;
	e[3] = apic_id;
	put32(e + 4, flags);
	tlen += 8;
}

static void x2apic(uint32_t apic_id, uint32_t flags)
{
	uint8_t *e = t + tlen;
	e[0] = 9;
	e[1] = 16;
	put32(e + 4, apic_id);
	put32(e + 8, flags);
	tlen += 16;
}

static void t_qemu_four(void)
{
	struct acpi_cpus c;
	const char *err = NULL;
	start();
	for (int i = 0; i < 4; i++)
		lapic((uint8_t)i, 1);
	t[tlen] = 1; /* an I/O APIC entry, skipped */
	t[tlen + 1] = 12;
	tlen += 12;
	fix_sum();
	CHECK_EQ(acpi_madt_parse(t, tlen, &c, &err), 0);
	CHECK_EQ(c.n, 4);
	CHECK_EQ(c.lapic_pa, 0xfee00000);
	CHECK_EQ(c.apic_id[3], 3);
}

static void t_disabled_duplicate_x2apic(void)
{
	struct acpi_cpus c;
	const char *err = NULL;
	start();
	lapic(0, 1);
	lapic(1, 0);      /* disabled: not started */
	x2apic(0, 1);     /* the same core again */
	x2apic(300, 1);   /* only x2APIC can name it */
	fix_sum();
	CHECK_EQ(acpi_madt_parse(t, tlen, &c, &err), 0);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.apic_id[1], 300);
}

static void t_more_than_kept(void)
{
	struct acpi_cpus c;
	const char *err = NULL;
	start();
	for (int i = 0; i < ACPI_MAX_CPUS + 3; i++)
		x2apic((uint32_t)i, 1);
	fix_sum();
	CHECK(tlen <= sizeof t);
	CHECK_EQ(acpi_madt_parse(t, tlen, &c, &err), 0);
	CHECK_EQ(c.n, ACPI_MAX_CPUS);
	CHECK_EQ(c.skipped, 3);
}

static int refused(const char *why)
{
	struct acpi_cpus c;
	const char *err = NULL;
	return acpi_madt_parse(t, tlen, &c, &err) == -1 && err && strstr(err, why) != NULL;
}

static void t_broken(void)
{
	start();
	lapic(0, 1);
	fix_sum();
	t[9]++;
	CHECK(refused("checksum"));
	fix_sum();
	put32(t + 4, (uint32_t)tlen + 1); /* says more than there is */
	CHECK(refused("length"));
	start();
	lapic(0, 1);
	t[tlen - 7] = 40; /* the entry's length runs past the table */
	fix_sum();
	CHECK(refused("entry length"));
	start();
	lapic(0, 1);
	t[tlen - 7] = 0; /* a zero length would never end */
	fix_sum();
	CHECK(refused("entry length"));
	start();
	lapic(0, 1);
	tlen++; /* one byte left: no room for an entry header */
	fix_sum();
	CHECK(refused("cut short"));
	start();
	lapic(0, 0);
	fix_sum();
	CHECK(refused("no enabled processor"));
	start();
	memcpy(t, "FACP", 4);
	fix_sum();
	CHECK(refused("not a MADT"));
}

/* Random bytes after a valid header: refused or parsed, never a crash
 * (run under the sanitizers with the other unit tests). */
static void t_fuzz(void)
{
	struct acpi_cpus c;
	const char *err;
	for (int k = 0; k < 20000; k++) {
		start();
		tlen = 44 + check_rand() % 512;
		for (size_t i = 44; i < tlen; i++)
			t[i] = (uint8_t)check_rand();
		fix_sum();
		int rc = acpi_madt_parse(t, tlen, &c, &err);
		CHECK(rc == 0 || rc == -1);
		CHECK(c.n <= ACPI_MAX_CPUS);
	}
}

int main(void)
{
	RUN(t_qemu_four);
	RUN(t_disabled_duplicate_x2apic);
	RUN(t_more_than_kept);
	RUN(t_broken);
	RUN(t_fuzz);
	return check_exit();
}
