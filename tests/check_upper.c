/*
 * Unit tests for the uppercase transform (src/upper.c).
 */
#include <string.h>

#include "check_suites.h"
#include "upper.h"

START_TEST(test_upper_ascii_maps_a_to_z_only)
{
	unsigned char	 buf[256];
	int		 i;

	for (i = 0; i < 256; i++)
		buf[i] = (unsigned char)i;
	upper_ascii(buf, sizeof(buf));
	for (i = 0; i < 256; i++) {
		int want = (i >= 'a' && i <= 'z') ? i - 32 : i;
		ck_assert_int_eq(buf[i], want);
	}
}
END_TEST

START_TEST(test_upper_capacity_covers_growth_and_slack)
{
	ck_assert_uint_eq(upper_capacity(0), UPPER_SLACK_BYTES);
	ck_assert_uint_eq(upper_capacity(1024 * 1024),
	    1024 * 1024 + 512 * 1024 + UPPER_SLACK_BYTES);
}
END_TEST

START_TEST(test_upper_utf8_keeps_nul_and_high_bytes)
{
	unsigned char	 buf[64] = { 'a', 0, 'b', 0xff, 0x80, 'z' };
	size_t		 n;

	n = upper_utf8(buf, 6, sizeof(buf));
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(buf, "A\0B\xff\x80Z", 6);
}
END_TEST

Suite *
upper_suite(void)
{
	Suite	*s = suite_create("upper");
	TCase	*tc = tcase_create("ascii");

	tcase_add_test(tc, test_upper_ascii_maps_a_to_z_only);
	tcase_add_test(tc, test_upper_capacity_covers_growth_and_slack);
	tcase_add_test(tc, test_upper_utf8_keeps_nul_and_high_bytes);
	suite_add_tcase(s, tc);
	return s;
}
