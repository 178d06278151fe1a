// SPDX-License-Identifier: GPL-2.0
/*
 * tput: goodput of one stream socket, for `make bench`.
 *
 *   tput server PORT mptcp|tcp [4|6]        accept one connection, read to EOF
 *   tput client ADDR PORT mptcp|tcp SECONDS  send for SECONDS, then shut down
 *
 * The server prints one line when the client has shut down:
 *   bytes=N secs=S mbps=M is_mptcp=0|1 acks=A segs_in=I
 * timed from the first byte received to EOF; is_mptcp is the accepted
 * socket's TCP_IS_MPTCP (-errno if the option fails); acks and segs_in are
 * the segments its (first) subflow sent (ACKs: the data flows the other
 * way) and received, from TCP_INFO or MPTCP_TCPINFO (-1 if unavailable).  The client waits for
 * the server's close, so one run ends when all data has been read.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#define MPTCP_TCPINFO 2
#define BUF (256 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int proto_of(const char *p)
{
	if (!strcmp(p, "mptcp"))
		return IPPROTO_MPTCP;
	if (!strcmp(p, "tcp"))
		return IPPROTO_TCP;
	fprintf(stderr, "tput: protocol mptcp|tcp, not %s\n", p);
	exit(2);
}

/* include/uapi/linux/mptcp.h */
struct mptcp_subflow_data {
	__u32 size_subflow_data;
	__u32 num_subflows;
	__u32 size_kernel;
	__u32 size_user;
} __attribute__((aligned(8)));

/* The segments the first subflow of connection c sent and received. */
static void subflow_segs(int c, int proto, long long *out, long long *in)
{
	struct {
		struct mptcp_subflow_data d;
		struct tcp_info ti;
	} m;
	socklen_t l = sizeof(m);

	*out = *in = -1;
	memset(&m, 0, sizeof(m));
	if (proto == IPPROTO_MPTCP) {
		m.d.size_subflow_data = sizeof(m.d);
		m.d.size_user = sizeof(m.ti);
		if (getsockopt(c, SOL_MPTCP, MPTCP_TCPINFO, &m, &l) || m.d.num_subflows < 1)
			return;
	} else {
		l = sizeof(m.ti);
		if (getsockopt(c, IPPROTO_TCP, TCP_INFO, &m.ti, &l))
			return;
	}
	*out = m.ti.tcpi_segs_out;
	*in = m.ti.tcpi_segs_in;
}

static int server(const char *port, int proto, int fam)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1, s, c, is_mptcp;
	socklen_t il = sizeof(is_mptcp);
	unsigned long long bytes = 0;
	long long acks, segs_in;
	double t0 = 0, t1;
	char *buf = malloc(BUF);
	ssize_t n;

	if (fam == AF_INET6) {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(atoi(port));
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(atoi(port));
		sl = sizeof(*a);
	}
	s = socket(fam, SOCK_STREAM, proto);
	if (s < 0)
		die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (void *)&ss, sl) || listen(s, 8))
		die("bind/listen");
	fprintf(stderr, "listening\n");
	c = accept(s, NULL, NULL);
	if (c < 0)
		die("accept");
	if (getsockopt(c, IPPROTO_TCP, TCP_IS_MPTCP, &is_mptcp, &il))
		is_mptcp = -errno;
	while ((n = recv(c, buf, BUF, 0)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (!bytes)
			t0 = now();
		bytes += n;
	}
	t1 = now();
	subflow_segs(c, proto, &acks, &segs_in);
	close(c);
	close(s);
	printf("bytes=%llu secs=%.3f mbps=%.1f is_mptcp=%d acks=%lld segs_in=%lld\n", bytes,
	       t1 - t0, t1 > t0 ? bytes * 8 / (t1 - t0) / 1e6 : 0.0, is_mptcp, acks, segs_in);
	return 0;
}

static int client(const char *addr, const char *port, int proto, double secs)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char *buf = malloc(BUF), c;
	double end;
	int s, tries;

	memset(buf, 0x5a, BUF);
	if (getaddrinfo(addr, port, &hints, &ai))
		die("getaddrinfo");
	for (tries = 0;; tries++) {	/* the server may not listen yet */
		s = socket(ai->ai_family, SOCK_STREAM, proto);
		if (s < 0)
			die("socket");
		if (!connect(s, ai->ai_addr, ai->ai_addrlen))
			break;
		if (errno != ECONNREFUSED || tries > 100)
			die("connect");
		close(s);
		usleep(50000);
	}
	end = now() + secs;
	while (now() < end) {
		ssize_t n = send(s, buf, BUF, 0);

		if (n < 0 && errno != EINTR)
			die("send");
	}
	shutdown(s, SHUT_WR);
	while (recv(s, &c, 1, 0) > 0)	/* wait for the server's close */
		;
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "server"))
		return server(argv[2], proto_of(argv[3]),
			      argc > 4 && !strcmp(argv[4], "6") ? AF_INET6 : AF_INET);
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], proto_of(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: tput server PORT mptcp|tcp [4|6]\n"
			"       tput client ADDR PORT mptcp|tcp SECONDS\n");
	return 2;
}
