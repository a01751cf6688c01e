/* devices.c - device numbers as st_rdev holds them (no syscalls) */
#include <sys/sysmacros.h>
#include "netfd_shim.h"

uint64_t netfd_make_device(unsigned int major, unsigned int minor)
{
    return (uint64_t)makedev(major, minor);
}
