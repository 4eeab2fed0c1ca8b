/* fuzz_cmdline.c - the node's kernel command line (kernel/cmdline.c, with
 * migrate/hexkey.c for om.key=), built for the host as the Makefile's
 * test_cmdline is. The command line comes from whoever serves the boot
 * menu (iPXE over TFTP): peer input like the rest.
 *
 * cmdline_parse gets the input as a C string (a NUL added, any NUL inside
 * ends it early, as it would the boot loader's); cmdline_parse_ipv4 gets
 * the raw bytes as a [s, end) range over an exact-size copy, so a read
 * past end is an ASan report. What the parser accepts must be sane: a
 * netmask that is a prefix, a speed within its bounds. */
#include <stdarg.h>

#include "cmdline.h"

#include "fuzz.h"

/* The kernel's console, as far as cmdline.c uses it: formatted, then
 * dropped (the formatting still reads every argument). */
void
kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_options opt;
	char *line = malloc(size + 1);
	uint8_t *raw = fz_dup(data, size);
	uint32_t ip, mask;
	int problems;

	if (line == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	problems = cmdline_parse(line, &opt);
	FUZZ_ASSERT(problems >= 0, "%d problems", problems);
	if (!opt.net.use_dhcp) {
		mask = __builtin_bswap32(opt.net.netmask);
		FUZZ_ASSERT(mask != 0 && (~mask & (~mask + 1)) == 0, "netmask %#x is not a prefix", mask);
	}
	FUZZ_ASSERT(opt.speed <= 1000000, "speed %u", opt.speed);
	FUZZ_ASSERT(opt.selftest == 0 || opt.selftest == 1, "selftest %d", opt.selftest);
	if (cmdline_parse_ipv4((const char *)raw, (const char *)raw + size, &ip) == 0)
		FUZZ_ASSERT(size >= 7 && size <= 15, "%zu bytes parse as an address", size);
	free(raw);
	free(line);
	return 0;
}
