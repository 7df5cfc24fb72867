#!/bin/bash
# bootprof: dracut module for dmsquash-live (Fedora/RHEL live images). Install the folder as
# /usr/lib/dracut/modules.d/90bootprof-readahead and build with
#   dracut --add "dmsquash-live bootprof-readahead" ...
# or add_dracutmodules+=" bootprof-readahead " in /etc/dracut.conf.d/bootprof.conf.

check() {
    # only when asked for
    return 255
}

depends() {
    echo dmsquash-live
}

install() {
    local reader="${BOOTPROF_SHARE:-/usr/share/bootprof}/bootprof-readahead"
    [ -r "$reader" ] || reader="$moddir/bootprof-readahead"
    inst_script "$reader" /usr/sbin/bootprof-readahead
    inst_multiple dd
    # dmsquash-live-root (run from the initqueue) mounts the medium on /run/initramfs/live and sets
    # up and mounts the squashfs; pre-mount hooks run after the initqueue and before the root is
    # mounted on /sysroot and switched to, i.e. before the boot reads anything but the squashfs's
    # superblock and root directory.
    inst_hook pre-mount 10 "$moddir/bootprof-readahead-live.sh"
}
