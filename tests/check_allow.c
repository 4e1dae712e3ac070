/*
 * Unit tests for the peer allowlist (src/allow.c) and the forms of
 * -s ADDRESS (src/address.c).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "address.h"
#include "allow.h"
#include "check_suites.h"

/* Whether the list text admits the peer text (IPv4 or IPv6). */
static int
admits(const char *list_text, const char *peer)
{
	struct allow_list	 list;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	char			 err[128];

	ck_assert_msg(allow_parse(list_text, &list, err, sizeof(err)) == 0,
	    "\"%s\" refused: %s", list_text, err);
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, peer, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return allow_match(&list, (struct sockaddr *)&sin,
		    sizeof(sin));
	}
	ck_assert_int_eq(inet_pton(AF_INET6, peer, &sin6.sin6_addr), 1);
	sin6.sin6_family = AF_INET6;
	return allow_match(&list, (struct sockaddr *)&sin6, sizeof(sin6));
}

START_TEST(test_allow_exact_addresses_of_both_families)
{
	ck_assert(admits("127.0.0.1", "127.0.0.1"));
	ck_assert(!admits("127.0.0.1", "127.0.0.2"));
	ck_assert(admits("127.0.0.1,::1", "::1"));
	ck_assert(!admits("::1", "127.0.0.1"));
	ck_assert(!admits("127.0.0.1", "::1"));
	ck_assert(admits(" 192.0.2.1 , 2001:db8::5 ", "2001:db8::5"));
}
END_TEST

START_TEST(test_allow_cidr_prefixes_match_by_their_bits)
{
	ck_assert(admits("192.0.2.0/24", "192.0.2.255"));
	ck_assert(!admits("192.0.2.0/24", "192.0.3.0"));
	ck_assert(admits("10.0.0.0/9", "10.127.255.255"));
	ck_assert(!admits("10.0.0.0/9", "10.128.0.0"));
	ck_assert(admits("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!admits("2001:db8::/32", "2001:db9::1"));
	ck_assert(admits("0.0.0.0/0", "203.0.113.9"));
	ck_assert(!admits("0.0.0.0/0", "2001:db8::1"));
	/* Host bits past the prefix are ignored. */
	ck_assert(admits("192.0.2.77/24", "192.0.2.1"));
}
END_TEST

START_TEST(test_allow_ipv4_mapped_peer_matches_its_ipv4_entry)
{
	ck_assert(admits("127.0.0.1", "::ffff:127.0.0.1"));
	ck_assert(admits("192.0.2.0/24", "::ffff:192.0.2.9"));
	ck_assert(!admits("::ffff:0:0/96", "::ffff:127.0.0.1"));
	ck_assert(!admits("127.0.0.2", "::ffff:127.0.0.1"));
}
END_TEST

START_TEST(test_allow_empty_list_and_unix_peers_are_admitted)
{
	struct allow_list	 list;
	struct sockaddr		 sa;

	list.n = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	ck_assert(allow_match(&list, &sa, sizeof(sa)));
	ck_assert(!admits("127.0.0.1", "::1"));	/* a list is a list */
}
END_TEST

START_TEST(test_allow_rejects_what_is_not_an_address)
{
	static const char *bad[] = { "", ",", "127.0.0.1,", "localhost",
	    "127.0.0.1/33", "::1/129", "127.0.0.1/", "127.0.0.1/-1",
	    "127.0.0.1/8x", "1.2.3", "::1::2", "127.0.0.1 ::1" };
	struct allow_list	 list;
	char			 err[128];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(allow_parse(bad[i], &list, err, sizeof(err)) ==
		    -1, "\"%s\" was accepted", bad[i]);
		ck_assert_msg(strstr(err, "not an IPv4 or IPv6") != NULL,
		    "\"%s\": no reason: %s", bad[i], err);
	}
}
END_TEST

/* Parse text, expecting success, and return the kind. */
static enum address_kind
kind_of(const char *text, struct address *a)
{
	const char	*why;

	ck_assert_msg(address_parse(text, a, &why) == 0, "\"%s\": %s", text,
	    why);
	return a->kind;
}

START_TEST(test_address_forms_of_php_fpm_listen)
{
	struct address	 a;

	ck_assert_int_eq(kind_of("/run/upcase-fcgi.sock", &a), ADDRESS_UNIX);
	ck_assert_int_eq(kind_of("./relative/x.sock", &a), ADDRESS_UNIX);
	ck_assert_int_eq(kind_of("127.0.0.1:9000", &a), ADDRESS_TCP_HOST);
	ck_assert_str_eq(a.host, "127.0.0.1");
	ck_assert_str_eq(a.port, "9000");
	ck_assert_int_eq(kind_of("localhost:1", &a), ADDRESS_TCP_HOST);
	ck_assert_str_eq(a.host, "localhost");
	ck_assert_int_eq(kind_of("[::1]:65535", &a), ADDRESS_TCP_HOST);
	ck_assert_str_eq(a.host, "::1");
	ck_assert_str_eq(a.port, "65535");
	ck_assert_int_eq(kind_of("[2001:db8::1]:9000", &a), ADDRESS_TCP_HOST);
	ck_assert_str_eq(a.host, "2001:db8::1");
	ck_assert_int_eq(kind_of("9000", &a), ADDRESS_TCP_ANY);
	ck_assert_str_eq(a.port, "9000");
	ck_assert_int_eq(kind_of(":9000", &a), ADDRESS_TCP_ANY);
	ck_assert_str_eq(a.port, "9000");
}
END_TEST

START_TEST(test_address_rejects_bad_ports_and_bare_ipv6)
{
	static const char *bad[] = { "", ":", "0", ":0", "65536", "x:9000x",
	    "127.0.0.1:", "127.0.0.1", "::1:9000", "[::1]", "[::1]9000",
	    "[]:9000", "host:-1", "host:+1", ":99999999999" };
	struct address	 a;
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(address_parse(bad[i], &a, &why) == -1,
		    "\"%s\" was accepted", bad[i]);
}
END_TEST

Suite *
allow_suite(void)
{
	Suite	*s = suite_create("allow");
	TCase	*allow = tcase_create("allowlist");
	TCase	*address = tcase_create("address");

	tcase_add_test(allow, test_allow_exact_addresses_of_both_families);
	tcase_add_test(allow, test_allow_cidr_prefixes_match_by_their_bits);
	tcase_add_test(allow, test_allow_ipv4_mapped_peer_matches_its_ipv4_entry);
	tcase_add_test(allow, test_allow_empty_list_and_unix_peers_are_admitted);
	tcase_add_test(allow, test_allow_rejects_what_is_not_an_address);
	tcase_add_test(address, test_address_forms_of_php_fpm_listen);
	tcase_add_test(address, test_address_rejects_bad_ports_and_bare_ipv6);
	suite_add_tcase(s, allow);
	suite_add_tcase(s, address);
	return s;
}
