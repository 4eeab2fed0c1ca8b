/* selftest.h - om.selftest: the built-in ring-3 check (kernel/selftest.c). */
#ifndef OM_SELFTEST_H
#define OM_SELFTEST_H

/* Starts the built-in program as the node's job; 0 or -1. */
int selftest_start(void);

#endif
