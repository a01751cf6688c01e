/*
 * packet.c - an AF_PACKET raw socket bound to one link
 * (syscalls: socket(AF_PACKET, SOCK_RAW|SOCK_CLOEXEC, 0), setsockopt(SOL_PACKET,
 * PACKET_VNET_HDR), bind, setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP), close)
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "netfd_shim.h"

const int netfd_AF_PACKET = AF_PACKET;
const int netfd_SOL_PACKET = SOL_PACKET;
const int netfd_PACKET_VNET_HDR = PACKET_VNET_HDR;
const int netfd_PACKET_ADD_MEMBERSHIP = PACKET_ADD_MEMBERSHIP;
const int netfd_PACKET_MR_PROMISC = PACKET_MR_PROMISC;

int netfd_packet_socket_open(int ifindex, uint16_t protocol, int vnet_hdr, int promiscuous)
{
    struct sockaddr_ll address;
    int fd, one = 1, saved;

    if (ifindex <= 0 || protocol == 0)
        return -EINVAL;   /* index 0 would bind to every link, protocol 0 receive nothing */
    /* Protocol 0: the socket hears nothing until bind() names the link, so no
     * frame of any other link can wait in its queue for the caller to read. */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* Before bind, as the kernel wants it before any frame (and any ring). */
    if (vnet_hdr && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
        goto fail;
    memset(&address, 0, sizeof(address));
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(protocol);
    address.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
        goto fail;
    if (promiscuous) {
        struct packet_mreq request;

        memset(&request, 0, sizeof(request));
        request.mr_ifindex = ifindex;
        request.mr_type = PACKET_MR_PROMISC;
        if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &request, sizeof(request)) < 0)
            goto fail;
    }
    return fd;
fail:
    saved = errno;
    close(fd);
    return -saved;
}
