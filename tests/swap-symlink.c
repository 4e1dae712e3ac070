/*
 * swap-symlink: for tests/socket-owner-race.sh, the attacker of the race
 * it checks.  Whenever a unix socket appears at PATH, replace it at once
 * (rename, atomic) with a symlink to TARGET; stop after SECONDS.
 *
 * usage: swap-symlink PATH TARGET SECONDS
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct stat	 st;
	char		 link[4096];
	time_t		 end;
	unsigned long	 swaps = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: swap-symlink PATH TARGET SECONDS\n");
		return 2;
	}
	snprintf(link, sizeof(link), "%s.swap", argv[1]);
	end = time(NULL) + atoi(argv[3]);
	/*
	 * The symlink is made before the socket appears, so that the swap
	 * is one rename: the window it must hit is one system call wide.
	 */
	unlink(link);
	if (symlink(argv[2], link) == -1) {
		perror(link);
		return 1;
	}
	while (time(NULL) < end) {
		if (lstat(argv[1], &st) == -1 || !S_ISSOCK(st.st_mode))
			continue;
		if (rename(link, argv[1]) == 0) {
			swaps++;
			if (symlink(argv[2], link) == -1) {
				perror(link);
				return 1;
			}
		}
	}
	unlink(link);
	printf("%lu swaps\n", swaps);
	return 0;
}
