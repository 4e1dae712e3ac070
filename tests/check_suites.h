/* One Check suite per module; tests/check_upcase.c runs them all. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

Suite	*allow_suite(void);
Suite	*policy_suite(void);
Suite	*upper_suite(void);

#endif
