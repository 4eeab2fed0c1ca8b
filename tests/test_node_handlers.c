/* test_node_handlers.c - the node image's system-call handlers against the
 * table: every call syscalls.def marks LOCAL has a global sys_<name> in
 * build/om-node-debug.elf (the dispatch table would not link without it),
 * no other call has one, and no sys_* function exists that no call names
 * (a handler nothing dispatches to). Together with test_syscall_table's
 * check of docs/syscalls.md, table, node and documentation agree.
 *
 * Usage: test_node_handlers [NODE_ELF] (default build/om-node-debug.elf). */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PREFIX "node_handlers/"
#include "check.h"
#include "syscall_codec.h"

#define MAX_NR 512

static const char *elf_path = "build/om-node-debug.elf";
static uint8_t *img;
static size_t img_len;
/* The global function symbols named sys_*, their names without "sys_". */
static char *handlers[1024];
static int nhandlers;

static int
load(void)
{
	FILE *f = fopen(elf_path, "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0)
		return -1;
	img_len = (size_t)n;
	if ((img = malloc(img_len)) == NULL || fread(img, 1, img_len, f) != img_len) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* A section header, bounds-checked against the file. */
static const Elf64_Shdr *
section(const Elf64_Ehdr *eh, unsigned i)
{
	uint64_t off = eh->e_shoff + (uint64_t)i * sizeof(Elf64_Shdr);

	if (i >= eh->e_shnum || off + sizeof(Elf64_Shdr) > img_len)
		return NULL;
	return (const Elf64_Shdr *)(img + off);
}

static void
symbols(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sym = NULL, *str;
	unsigned i;

	CHECK(img_len >= sizeof *eh && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_shentsize == sizeof(Elf64_Shdr));
	for (i = 0; i < eh->e_shnum && sym == NULL; i++) {
		const Elf64_Shdr *sh = section(eh, i);
		CHECK(sh != NULL);
		if (sh->sh_type == SHT_SYMTAB)
			sym = sh;
	}
	CHECK(sym != NULL && sym->sh_entsize == sizeof(Elf64_Sym));
	CHECK((str = section(eh, sym->sh_link)) != NULL);
	CHECK(sym->sh_offset + sym->sh_size <= img_len && str->sh_offset + str->sh_size <= img_len);
	for (i = 0; i < sym->sh_size / sizeof(Elf64_Sym); i++) {
		const Elf64_Sym *s = (const Elf64_Sym *)(img + sym->sh_offset) + i;
		const char *name;

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || ELF64_ST_BIND(s->st_info) != STB_GLOBAL ||
		    s->st_name >= str->sh_size)
			continue;
		name = (const char *)img + str->sh_offset + s->st_name;
		if (strnlen(name, str->sh_size - s->st_name) == str->sh_size - s->st_name)
			continue; /* not terminated inside the table */
		if (strncmp(name, "sys_", 4) == 0 && nhandlers < (int)(sizeof handlers / sizeof handlers[0]))
			handlers[nhandlers++] = strdup(name + 4);
	}
	CHECK(nhandlers > 0);
}

static int
has_handler(const char *call)
{
	int i;

	for (i = 0; i < nhandlers; i++)
		if (strcmp(handlers[i], call) == 0)
			return 1;
	return 0;
}

static void
local_calls_have_handlers(void)
{
	unsigned nr, locals = 0;

	for (nr = 0; nr < MAX_NR; nr++) {
		const struct om_syscall *e = om_syscall_get(nr);
		if (e == NULL)
			continue;
		if (e->where == OM_LOCAL) {
			locals++;
			if (!has_handler(e->name)) {
				check_fail("%s is LOCAL but the node has no sys_%s", e->name, e->name);
				return;
			}
		} else if (has_handler(e->name)) {
			check_fail("%s is %s but the node has sys_%s", e->name, om_where_name(e->where), e->name);
			return;
		}
	}
	CHECK(locals > 50);
}

/* lwIP's operating-system layer shares the prefix (lwip/sys.h,
 * lwip/timeouts.h, and net/lwip_port.c's sys_now). */
static int
lwip_sys(const char *name)
{
	static const char *const lwip[] = { "now", "timeout", "untimeout", "timeouts_init",
		"check_timeouts", "restart_timeouts", "timeouts_sleeptime", "init" };
	size_t i;

	for (i = 0; i < sizeof lwip / sizeof lwip[0]; i++)
		if (strcmp(name, lwip[i]) == 0 || (strncmp(name, "arch_", 5) == 0))
			return 1;
	return 0;
}

static void
every_handler_is_a_call(void)
{
	int i;
	unsigned nr;

	for (i = 0; i < nhandlers; i++) {
		int found = lwip_sys(handlers[i]);
		for (nr = 0; nr < MAX_NR && !found; nr++) {
			const struct om_syscall *e = om_syscall_get(nr);
			found = e != NULL && strcmp(e->name, handlers[i]) == 0;
		}
		if (!found) {
			check_fail("sys_%s in the node names no system call", handlers[i]);
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		elf_path = argv[1];
	if (load() != 0) {
		printf("FAIL " CHECK_PREFIX "load: cannot read %s (make it first)\n", elf_path);
		return 1;
	}
	RUN(symbols);
	RUN(local_calls_have_handlers);
	RUN(every_handler_is_a_call);
	return check_exit();
}
