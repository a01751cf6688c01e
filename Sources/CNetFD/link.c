/*
 * link.c - a link's index, MTU, address, IFF_UP and bridge ports, by the
 * classic interface ioctls on a socket (syscalls: ioctl).
 *
 * Any socket will do; netfd uses its rtnetlink socket. These are what a tap
 * request needs on its success path, each one syscall with no message to
 * build or parse (qemu-bridge-helper uses the same ioctls). Every function
 * takes the link's name and refuses one that does not fit IFNAMSIZ with
 * -ENAMETOOLONG: a name is never truncated.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/sockios.h>
#include "netfd_shim.h"

const unsigned long netfd_ioctl_SIOCGIFINDEX = SIOCGIFINDEX;
const unsigned long netfd_ioctl_SIOCGIFMTU = SIOCGIFMTU;
const unsigned long netfd_ioctl_SIOCSIFMTU = SIOCSIFMTU;
const unsigned long netfd_ioctl_SIOCSIFHWADDR = SIOCSIFHWADDR;
const unsigned long netfd_ioctl_SIOCGIFFLAGS = SIOCGIFFLAGS;
const unsigned long netfd_ioctl_SIOCSIFFLAGS = SIOCSIFFLAGS;
const unsigned long netfd_ioctl_SIOCBRADDIF = SIOCBRADDIF;

/** Zeroes `ifr` and copies `name` into it whole; -ENAMETOOLONG if it does not fit. */
static int netfd_ifreq_init(struct ifreq *ifr, const char *name)
{
    if (strlen(name) >= IFNAMSIZ)
        return -ENAMETOOLONG;
    memset(ifr, 0, sizeof(*ifr));
    strcpy(ifr->ifr_name, name);
    return 0;
}

int netfd_interface_index(int socket_fd, const char *name)
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, name);

    if (rc < 0)
        return rc;
    if (ioctl(socket_fd, SIOCGIFINDEX, &ifr) < 0)
        return -errno;
    return ifr.ifr_ifindex;
}

int netfd_link_mtu(int socket_fd, const char *name)
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, name);

    if (rc < 0)
        return rc;
    if (ioctl(socket_fd, SIOCGIFMTU, &ifr) < 0)
        return -errno;
    return ifr.ifr_mtu;
}

int netfd_link_set_mtu(int socket_fd, const char *name, int mtu)
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, name);

    if (rc < 0)
        return rc;
    ifr.ifr_mtu = mtu;
    return ioctl(socket_fd, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
}

int netfd_link_set_ethernet_address(int socket_fd, const char *name, const unsigned char address[6])
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, name);

    if (rc < 0)
        return rc;
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, address, 6);
    return ioctl(socket_fd, SIOCSIFHWADDR, &ifr) < 0 ? -errno : 0;
}

int netfd_link_set_up(int socket_fd, const char *name)
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, name);

    if (rc < 0)
        return rc;
    /* SIOCSIFFLAGS replaces the flags it may change, so read them first. */
    if (ioctl(socket_fd, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(socket_fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int netfd_bridge_add_port(int socket_fd, const char *bridge, int port_index)
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, bridge);

    if (rc < 0)
        return rc;
    ifr.ifr_ifindex = port_index;
    return ioctl(socket_fd, SIOCBRADDIF, &ifr) < 0 ? -errno : 0;
}

int netfd_bridge_probe(int socket_fd, const char *name)
{
    struct ifreq ifr;
    int rc = netfd_ifreq_init(&ifr, name);

    if (rc < 0)
        return rc;
    /*
     * No link has index 0. A bridge therefore refuses this SIOCBRADDIF with
     * EINVAL (net/bridge/br_ioctl.c, add_del_if: no such port) after checking
     * CAP_NET_ADMIN; any other kind of link refuses it with EOPNOTSUPP
     * (net/core/dev_ioctl.c: bridges only), a missing one with ENODEV.
     * Nothing changes in any case.
     */
    ifr.ifr_ifindex = 0;
    if (ioctl(socket_fd, SIOCBRADDIF, &ifr) == 0 || errno == EINVAL)
        return 0;
    return -errno;
}
