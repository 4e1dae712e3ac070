/*
 * Unit tests for the request policy (src/policy.c): option sizes,
 * CONTENT_LENGTH validation and the status of every limit case.
 */
#include <string.h>

#include "check_suites.h"
#include "policy.h"

static size_t
size_of(const char *text)
{
	size_t	 n = 12345;

	ck_assert_int_eq(policy_parse_size(text, &n), 0);
	return n;
}

START_TEST(test_size_accepts_bytes_and_k_m_suffixes)
{
	ck_assert_uint_eq(size_of("0"), 0);
	ck_assert_uint_eq(size_of("1000"), 1000);
	ck_assert_uint_eq(size_of("64k"), 64 * 1024);
	ck_assert_uint_eq(size_of("64K"), 64 * 1024);
	ck_assert_uint_eq(size_of("1m"), 1024 * 1024);
	ck_assert_uint_eq(size_of("1024M"), POLICY_MAX_BODY_LIMIT);
}
END_TEST

START_TEST(test_size_rejects_junk_signs_and_values_over_the_limit)
{
	static const char *bad[] = { "", "k", "-1", "+1", " 1", "1 ", "1kb",
	    "1g", "1.5M", "0x10", "1025M", "1073741825",
	    "99999999999999999999999", "1048577k" };
	size_t	 n = 7, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(policy_parse_size(bad[i], &n) == -1,
		    "\"%s\" was accepted", bad[i]);
		ck_assert_uint_eq(n, 7);
	}
}
END_TEST

START_TEST(test_count_enforces_range_and_digits)
{
	long	 n = 0;

	ck_assert_int_eq(policy_parse_count("4", 1, 1024, &n), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(policy_parse_count("0", 1, 1024, &n), -1);
	ck_assert_int_eq(policy_parse_count("1025", 1, 1024, &n), -1);
	ck_assert_int_eq(policy_parse_count("-2", -5, 5, &n), -1);
	ck_assert_int_eq(policy_parse_count("3x", 1, 1024, &n), -1);
	ck_assert_int_eq(policy_parse_count("", 0, 1024, &n), -1);
}
END_TEST

START_TEST(test_content_length_absent_or_empty_is_unknown)
{
	unsigned long long	 n = 99;

	ck_assert_int_eq(policy_parse_content_length(NULL, &n),
	    CONTENT_LENGTH_UNKNOWN);
	ck_assert_int_eq(policy_parse_content_length("", &n),
	    CONTENT_LENGTH_UNKNOWN);
	ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(test_content_length_digits_are_valid)
{
	unsigned long long	 n = 99;

	ck_assert_int_eq(policy_parse_content_length("0", &n),
	    CONTENT_LENGTH_VALID);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(policy_parse_content_length("1048576", &n),
	    CONTENT_LENGTH_VALID);
	ck_assert_uint_eq(n, 1048576);
	ck_assert_int_eq(policy_parse_content_length("007", &n),
	    CONTENT_LENGTH_VALID);
	ck_assert_uint_eq(n, 7);
	ck_assert_int_eq(policy_parse_content_length(
	    "18446744073709551615", &n), CONTENT_LENGTH_VALID);
	ck_assert_uint_eq(n, 18446744073709551615ULL);
}
END_TEST

START_TEST(test_content_length_signs_spaces_and_overflow_are_invalid)
{
	static const char *bad[] = { "-1", "+5", " 5", "5 ", "abc", "1e3",
	    "0x10", "18446744073709551616", "123456789012345678901234567890" };
	unsigned long long	 n;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(policy_parse_content_length(bad[i], &n) ==
		    CONTENT_LENGTH_INVALID, "\"%s\" was not invalid", bad[i]);
}
END_TEST

static struct body_facts
facts(enum content_length_kind kind, unsigned long long cl, size_t received)
{
	struct body_facts	 f;

	memset(&f, 0, sizeof(f));
	f.content_length_kind = kind;
	f.content_length = cl;
	f.max_body = 100;
	f.received = received;
	return f;
}

START_TEST(test_status_200_for_matching_or_unknown_length)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_VALID, 10, 10);

	ck_assert_int_eq(policy_decide(&f), VERDICT_OK);
	f = facts(CONTENT_LENGTH_UNKNOWN, 0, 42);
	ck_assert_int_eq(policy_decide(&f), VERDICT_OK);
	f = facts(CONTENT_LENGTH_UNKNOWN, 0, 0);
	ck_assert_int_eq(policy_decide(&f), VERDICT_OK);
	f = facts(CONTENT_LENGTH_VALID, 100, 100);
	ck_assert_int_eq(policy_decide(&f), VERDICT_OK);
}
END_TEST

START_TEST(test_status_413_when_declared_length_exceeds_limit_before_reading)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_VALID, 101, 0);

	ck_assert_int_eq(policy_precheck(&f), VERDICT_TOO_LARGE);
	f = facts(CONTENT_LENGTH_VALID, 100, 0);
	ck_assert_int_eq(policy_precheck(&f), VERDICT_OK);
}
END_TEST

START_TEST(test_status_413_when_body_runs_past_limit_with_unknown_length)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_UNKNOWN, 0, 100);

	f.over_limit = 1;
	ck_assert_int_eq(policy_decide(&f), VERDICT_TOO_LARGE);
}
END_TEST

START_TEST(test_status_400_for_invalid_content_length_before_reading)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_INVALID, 0, 0);

	ck_assert_int_eq(policy_precheck(&f), VERDICT_BAD_REQUEST);
	ck_assert_int_eq(policy_decide(&f), VERDICT_BAD_REQUEST);
}
END_TEST

START_TEST(test_status_400_when_body_is_shorter_or_longer_than_declared)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_VALID, 10, 9);

	ck_assert_int_eq(policy_decide(&f), VERDICT_BAD_REQUEST);
	f = facts(CONTENT_LENGTH_VALID, 10, 11);
	ck_assert_int_eq(policy_decide(&f), VERDICT_BAD_REQUEST);
	/* A lie under the limit that runs past it is still too large. */
	f = facts(CONTENT_LENGTH_VALID, 10, 100);
	f.over_limit = 1;
	ck_assert_int_eq(policy_decide(&f), VERDICT_TOO_LARGE);
}
END_TEST

START_TEST(test_role_only_responder_is_served)
{
	ck_assert_int_eq(policy_role_is_responder("RESPONDER"), 1);
	ck_assert_int_eq(policy_role_is_responder("AUTHORIZER"), 0);
	ck_assert_int_eq(policy_role_is_responder("FILTER"), 0);
	ck_assert_int_eq(policy_role_is_responder("responder"), 0);
	ck_assert_int_eq(policy_role_is_responder(""), 0);
	ck_assert_int_eq(policy_role_is_responder(NULL), 0);
}
END_TEST

START_TEST(test_status_403_for_foreign_role_before_anything_else)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_VALID, 10, 10);

	f.foreign_role = 1;
	ck_assert_int_eq(policy_precheck(&f), VERDICT_FORBIDDEN);
	ck_assert_int_eq(policy_decide(&f), VERDICT_FORBIDDEN);
	f = facts(CONTENT_LENGTH_INVALID, 0, 0);
	f.foreign_role = 1;
	ck_assert_int_eq(policy_precheck(&f), VERDICT_FORBIDDEN);
}
END_TEST

START_TEST(test_status_no_response_when_stream_aborted)
{
	struct body_facts	 f = facts(CONTENT_LENGTH_VALID, 10, 4);

	f.stream_error = 1;
	ck_assert_int_eq(policy_decide(&f), VERDICT_ABORTED);
	f = facts(CONTENT_LENGTH_UNKNOWN, 0, 4);
	f.stream_error = 1;
	ck_assert_int_eq(policy_decide(&f), VERDICT_ABORTED);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*parse = tcase_create("parse");
	TCase	*status = tcase_create("status");

	tcase_add_test(parse, test_size_accepts_bytes_and_k_m_suffixes);
	tcase_add_test(parse,
	    test_size_rejects_junk_signs_and_values_over_the_limit);
	tcase_add_test(parse, test_count_enforces_range_and_digits);
	tcase_add_test(parse, test_content_length_absent_or_empty_is_unknown);
	tcase_add_test(parse, test_content_length_digits_are_valid);
	tcase_add_test(parse,
	    test_content_length_signs_spaces_and_overflow_are_invalid);
	tcase_add_test(status, test_status_200_for_matching_or_unknown_length);
	tcase_add_test(status,
	    test_status_413_when_declared_length_exceeds_limit_before_reading);
	tcase_add_test(status,
	    test_status_413_when_body_runs_past_limit_with_unknown_length);
	tcase_add_test(status,
	    test_status_400_for_invalid_content_length_before_reading);
	tcase_add_test(status,
	    test_status_400_when_body_is_shorter_or_longer_than_declared);
	tcase_add_test(status, test_status_no_response_when_stream_aborted);
	tcase_add_test(parse, test_role_only_responder_is_served);
	tcase_add_test(status,
	    test_status_403_for_foreign_role_before_anything_else);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, status);
	return s;
}
