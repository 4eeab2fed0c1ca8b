/* home_code.h - the files behind home's code when a job leaves, checked
 * when it comes back.
 *
 * A private file mapping reads its file wherever the process has not
 * written it, so home's code changes when its file does. A node can
 * write the user's files through the deputy: a library the user can
 * write (a virtualenv's extension, one in the build tree, the program
 * itself) changed while the job was away would be code the node made,
 * and the image's pages, compared with home's, would match it.
 *
 * So when the job leaves, the deputy notes each file that home maps
 * executable, by its path: device, inode and ctime, as stat shows them,
 * and whether the job's user could write it (a file of another owner,
 * root's, without group or other write permission, it cannot: such a
 * file needs no check). When the image comes back (restore.h's home_file
 * hook), a file the user could write must still be at that path, the
 * same inode with the same ctime; anything else (changed, replaced,
 * removed, no longer reachable, or unknown when the job left) ends the
 * job. A root job's files are all checked. Home side only. */
#ifndef OM_HOME_CODE_H
#define OM_HOME_CODE_H

#include <stddef.h>
#include <sys/types.h>

/* Process pid (stopped, its image about to go) leaves: forget the last
 * notes, take new ones from /proc/PID/maps. */
void home_code_leaving(pid_t pid);
/* Whether home may keep running code from the file at path: 0, or -1
 * with why. ctx unused. */
int home_code_check(void *ctx, const char *path, char *why, size_t len);

#endif
