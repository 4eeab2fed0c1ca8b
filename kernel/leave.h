/* leave.h - the owner comes back: a key pressed or the mouse moved at the
 * node (or om-ctl reboot) empties the node and restarts the PC, which then
 * boots into its boot menu's default entry (docs/node.md, "The owner comes
 * back"). Main-loop context. */
#ifndef OM_LEAVE_H
#define OM_LEAVE_H

/* Starts watching the keyboard and mouse, and listens for NODE_RESTART.
 * After net_start and homelink_init. */
void leave_init(void);
/* Notices input, and moves a node that leaves on: jobs away, BYE, reset.
 * Call every main-loop round. */
void leave_poll(void);

#endif
