/*
 * The unit-test runner: every suite of the pure core, one summary line.
 */
#include <stdlib.h>

#include "check_suites.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(policy_suite());
	srunner_add_suite(sr, upper_suite());
	srunner_add_suite(sr, allow_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
