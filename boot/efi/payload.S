/* payload.S - the node kernel, embedded in the loader as data. The Makefile
 * passes its path (a debug-stripped copy of build/om-node.elf) as
 * OM_PAYLOAD; it is a build output and never committed. The gnu-efi linker
 * script puts .rodata into the loader's .data section. */

	.section .rodata.om_payload, "a"
	.balign 4096
	.globl om_payload
	.hidden om_payload
om_payload:
	.incbin OM_PAYLOAD
	.globl om_payload_end
	.hidden om_payload_end
om_payload_end:

	.section .note.GNU-stack, "", @progbits
