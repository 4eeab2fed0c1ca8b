/* ckpt_resume.h - om-run --restart FILE: a saved job made whole again in
 * a new home process, which then goes to a node as any job does (or
 * stays at home when none takes it).
 *
 * The file is read whole and checked first: every frame decoded, the
 * home record (ckpt_file.h) complete, the image valid and of one thread,
 * saved by this user; and every file it names must be as it was
 * (ckpt_saved_files): nothing of the job runs before that.
 *
 * The new home process is om-run's child, the program's file freshly
 * executed and stopped at its exec (nothing of it ran). ckpt_resume then
 * makes it the saved process:
 *  - the kernel's own mappings ([vdso], [vvar]...) move where they were
 *    (mremap: the same kernel has the same sizes), and the scratch region
 *    goes where the image has it;
 *  - the memory layout the kernel keeps (break, arguments, environment:
 *    prctl PR_SET_MM_MAP, which a user may set on its own process);
 *  - the files home ran code from are mapped where they were, and those
 *    the node read its code from are noted (node_code.h), so the image's
 *    code passes the checks of a returning image (restore.h): a file
 *    that changed is refused, and the file cannot bring code either;
 *  - the working directory, and each descriptor at its number: a file,
 *    directory or device opened again by path with its flags and put at
 *    its position; a pipe, terminal or socket at 0, 1 or 2 is the new
 *    om-run's own; anything else is refused;
 *  - then the image is restored into it (restore.h), and the scratch
 *    region goes.
 * Its pid is new. */
#ifndef OM_CKPT_RESUME_H
#define OM_CKPT_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt_file.h"
#include "image.h"
#include "inject.h"

struct ckpt_saved {
	uint8_t *buf;             /* the file, whole */
	size_t len;
	struct om_ckpt_home home;
	struct om_ckpt_entry *e;  /* its entries (home.entries) */
	size_t image_at;          /* where the image's frames begin in buf */
	struct om_image_hdr *hdr; /* its IMAGE_BEGIN */
};

/* Reads and checks the file: 0, or -1 with err (and nothing kept). */
int ckpt_saved_read(const char *path, struct ckpt_saved *s, char *err, size_t errlen);
/* Whether every file the record names is still the one it was, as the
 * job had it: 0, or -1 with err naming the first that is not. A file
 * read-only to the job must be unchanged; one it writes the same file,
 * at least as long as the job's position in it (what it wrote after the
 * checkpoint is written again), and one it appends to unchanged in size
 * (appending again would write twice). */
int ckpt_saved_files(const struct ckpt_saved *s, char *err, size_t errlen);
/* The process of in (open, at its exec stop, nothing set up) becomes the
 * saved one, stopped, without the scratch region: 0, or -1 with err
 * (then kill it). Signals the image has pending are raised. */
int ckpt_resume(struct ckpt_saved *s, struct inject *in, char *err, size_t errlen);
void ckpt_saved_free(struct ckpt_saved *s);

#endif
