/* tun.c - ioctls on /dev/net/tun (syscalls: ioctl) */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include "netfd_shim.h"

_Static_assert(NETFD_IFNAMSIZ == IFNAMSIZ, "IFNAMSIZ");
_Static_assert(NETFD_IFF_TUN == IFF_TUN && NETFD_IFF_TAP == IFF_TAP, "IFF_TUN/TAP");
_Static_assert(NETFD_IFF_NO_PI == IFF_NO_PI && NETFD_IFF_VNET_HDR == IFF_VNET_HDR, "IFF_NO_PI/VNET_HDR");
_Static_assert(NETFD_IFF_MULTI_QUEUE == IFF_MULTI_QUEUE, "IFF_MULTI_QUEUE");

const unsigned long netfd_ioctl_TUNSETIFF = TUNSETIFF;
const unsigned long netfd_ioctl_TUNGETIFF = TUNGETIFF;
const unsigned long netfd_ioctl_TUNGETFEATURES = TUNGETFEATURES;
const unsigned long netfd_ioctl_TUNSETOWNER = TUNSETOWNER;
const unsigned long netfd_ioctl_TUNSETGROUP = TUNSETGROUP;
const unsigned long netfd_ioctl_FIONREAD = FIONREAD;

int netfd_tun_get_features(int fd, unsigned int *features)
{
    return ioctl(fd, TUNGETFEATURES, features) < 0 ? -errno : 0;
}

int netfd_tun_set_iff(int fd, const char *name_template, int flags, char *name_out)
{
    struct ifreq ifr;

    if (strlen(name_template) >= IFNAMSIZ)
        return -ENAMETOOLONG;   /* never truncate a name */
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, name_template);
    ifr.ifr_flags = (short)flags;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        return -errno;
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    name_out[IFNAMSIZ - 1] = '\0';
    return 0;
}

int netfd_tun_get_iff(int fd, char *name_out, int *flags)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) < 0)
        return -errno;
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    name_out[IFNAMSIZ - 1] = '\0';
    *flags = (unsigned short)ifr.ifr_flags;
    return 0;
}

int netfd_tun_set_owner(int fd, uid_t uid)
{
    return ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0 ? -errno : 0;
}

int netfd_tun_set_group(int fd, gid_t gid)
{
    return ioctl(fd, TUNSETGROUP, (unsigned long)gid) < 0 ? -errno : 0;
}
