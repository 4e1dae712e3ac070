/*
 * In-place binary upgrade: re-execute with the same PID (the old image),
 * and pick up the socket and the old children (the new image).
 */
#ifndef UPGRADE_H
#define UPGRADE_H

#include <sys/types.h>

void	upgrade_init(int, char **);
int	upgrade_inherited(int *, pid_t *, int, int *);
void	upgrade_exec(int, const pid_t *, int);

#endif
