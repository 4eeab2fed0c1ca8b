/* test_cmdline.c - the node's command-line parser (kernel/cmdline.c), built
 * for the host: good values land in the config, bad ones are reported and
 * leave the defaults. */
#define CHECK_PREFIX "cmdline/"
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"

static char said[1024];

/* The kernel's console, as far as cmdline.c uses it. */
void kprintf(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(said);
	va_start(ap, fmt);
	vsnprintf(said + n, sizeof said - n, fmt, ap);
	va_end(ap);
}

static int parse(const char *line, struct node_options *o)
{
	said[0] = '\0';
	return cmdline_parse(line, o);
}

static void t_defaults(void)
{
	struct node_options o;
	CHECK_EQ(parse("", &o), 0);
	CHECK(o.net.use_dhcp && o.net.agent_ip == 0 && o.net.agent_port == 0 && !o.selftest);
	CHECK_EQ(parse("om-node.elf quiet console=ttyS0", &o), 0); /* not ours: ignored */
	CHECK(said[0] == '\0');
}

static void t_agent(void)
{
	struct node_options o;
	CHECK_EQ(parse("om-node.elf om.agent=10.0.2.2:7708", &o), 0);
	CHECK_EQ(o.net.agent_ip, inet_addr("10.0.2.2"));
	CHECK_EQ(o.net.agent_port, 7708);
	CHECK_EQ(parse("om.agent=192.168.1.200", &o), 0);
	CHECK_EQ(o.net.agent_ip, inet_addr("192.168.1.200"));
	CHECK_EQ(o.net.agent_port, 0); /* the default port is the caller's */
}

static void t_static_ip(void)
{
	struct node_options o;
	CHECK_EQ(parse("om.ip=10.1.2.3/24,10.1.2.1 om.selftest", &o), 0);
	CHECK(!o.net.use_dhcp && o.selftest);
	CHECK_EQ(o.net.ip, inet_addr("10.1.2.3"));
	CHECK_EQ(o.net.netmask, inet_addr("255.255.255.0"));
	CHECK_EQ(o.net.gw, inet_addr("10.1.2.1"));
	CHECK_EQ(parse("om.ip=10.1.2.3/32", &o), 0);
	CHECK_EQ(o.net.netmask, inet_addr("255.255.255.255"));
	CHECK_EQ(o.net.gw, 0);
}

static void t_bad_values(void)
{
	static const char *const bad[] = {
		"om.agent=10.0.2", "om.agent=10.0.2.256", "om.agent=10.0.2.2:0", "om.agent=10.0.2.2:65536",
		"om.agent=10.0.2.2:", "om.agent=a.b.c.d", "om.agent=1.2.3.4.5", "om.agent=10.0.2.2:77x",
		"om.agent=", "om.ip=10.1.2.3", "om.ip=10.1.2.3/0", "om.ip=10.1.2.3/33",
		"om.ip=10.1.2.3/24,", "om.ip=10.1.2.3/24,1.2.3", "om.ip=/24", "om.agent=99999999999.1.1.1",
		"om.speed=0", "om.speed=1000001", "om.speed=", "om.speed=12a", "om.speed=-5",
		"om.key=", "om.key=abcd",
		"om.key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
		"om.key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
		"om.key=00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct node_options o;
		CHECK_EQ(parse(bad[i], &o), 1);
		CHECK(strstr(said, "cmdline: bad value in '") != NULL);
		CHECK(o.net.use_dhcp && o.net.agent_ip == 0 && o.net.agent_port == 0 && o.speed == 0); /* defaults kept */
		CHECK(!o.net.have_agent_key);
	}
}

static void t_key(void)
{
	static const char good[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
	char line[200];
	struct node_options o;

	snprintf(line, sizeof line, "om-node.elf om.key=%s om.agent=10.0.2.2", good);
	CHECK_EQ(parse(line, &o), 0);
	CHECK(o.net.have_agent_key);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(o.net.agent_key[i], (i % 16) * 0x11);
	/* A bad second key leaves the good first one whole. */
	snprintf(line, sizeof line, "om.key=%s om.key=ffffffffzz", good);
	CHECK_EQ(parse(line, &o), 1);
	CHECK(o.net.have_agent_key && o.net.agent_key[0] == 0x00 && o.net.agent_key[31] == 0xff);
}

static void t_speed(void)
{
	struct node_options o;
	CHECK_EQ(parse("om-node.elf om.speed=250", &o), 0);
	CHECK_EQ(o.speed, 250);
	CHECK_EQ(parse("om.speed=1000000", &o), 0);
	CHECK_EQ(o.speed, 1000000);
}

static void t_unknown(void)
{
	struct node_options o;
	CHECK_EQ(parse("om.frobnicate=1 om.agent=10.0.2.2", &o), 1);
	CHECK(strstr(said, "cmdline: unknown option 'om.frobnicate=1' ignored") != NULL);
	CHECK_EQ(o.net.agent_ip, inet_addr("10.0.2.2")); /* the rest still counts */
}

int main(void)
{
	RUN(t_defaults);
	RUN(t_agent);
	RUN(t_key);
	RUN(t_static_ip);
	RUN(t_bad_values);
	RUN(t_speed);
	RUN(t_unknown);
	return check_exit();
}
