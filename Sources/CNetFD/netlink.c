/* netlink.c - a netlink socket bound to multicast groups (syscalls: bind) */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "netfd_shim.h"

_Static_assert(NETFD_RTMGRP_LINK == RTMGRP_LINK, "RTMGRP_LINK");

int netfd_netlink_bind_groups(int fd, uint32_t groups)
{
    struct sockaddr_nl address;

    /* nl_pid 0: the kernel picks the port id. Binding matters beyond the
     * groups: a socket without a port id (never bound, never sent from) is
     * skipped by every multicast delivery. */
    memset(&address, 0, sizeof(address));
    address.nl_family = AF_NETLINK;
    address.nl_groups = groups;
    return bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 ? -errno : 0;
}
