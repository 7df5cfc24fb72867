#!/bin/sh
# bootprof: dracut pre-mount hook (sourced by dracut): read the boot's ranges of the live squashfs,
# LiveOS/readahead.ranges on the medium, before the root is mounted. Does nothing when the list is
# absent, with rd.live.ram (the image was copied to RAM) or with bootprof.readahead=0.
type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

if getargbool 1 bootprof.readahead && ! getargbool 0 rd.live.ram; then
    bootprof_dir=$(getarg rd.live.dir)
    bootprof_img=$(getarg rd.live.squashimg)
    bootprof_dir=/run/initramfs/live/${bootprof_dir:-LiveOS}
    if [ -e "$bootprof_dir/readahead.ranges" ]; then
        /usr/sbin/bootprof-readahead "$bootprof_dir/${bootprof_img:-squashfs.img}" "$bootprof_dir/readahead.ranges"
    fi
    unset bootprof_dir bootprof_img
fi
