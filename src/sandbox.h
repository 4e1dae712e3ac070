/*
 * The children's system call sandbox (seccomp): the Linux counterpart of
 * slowcgi's pledge(2).
 */
#ifndef SANDBOX_H
#define SANDBOX_H

void	sandbox_prepare(int);
void	sandbox_enter(void);

#endif
