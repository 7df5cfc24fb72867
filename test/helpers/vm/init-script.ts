/**
 * The initramfs /init (busybox sh). It mounts the live CD the way a live system does
 * (sr0 -> iso9660 -> loop -> squashfs -> overlay), runs a workload inside it, then writes everything
 * it collected as a tar onto the second disk (/dev/vda) and powers off.
 *
 * Kernel command line knobs (unknown key=value parameters reach init as environment variables):
 *   bpmode=workload|stress|cli|hardening   what to run (default workload); cli runs the real
 *                            \`bootprof capture\` in the root (see cli-root.ts) around the workload;
 *                            hardening checks the module's failure paths (issue 11, needs /bigread)
 *   bp_buf_kb=N              bootprof.ko buf_kb
 *   bp_blktrace=0            do not run blktrace
 *   bp_stress_s=N            stress duration in seconds (default 8)
 *   bp_tracefs=1             arm tracefs (integrations/tracefs, copied to /tracefs) before any
 *                            driver loads, save it to /out/tracefs after the workload
 *   bp_tracefs_kb=N          its per-CPU buffer in KiB
 *   bp_method=tracefs        with bpmode=cli: run \`bootprof capture --method tracefs\` instead
 *   bp_try_insmod=1          with bpmode=cli: try insmod bootprof.ko anyway (rc in /out/insmod.rc)
 */
export function initScript(): string {
  return String.raw`#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /out /cdrom /sq /rw /root
mount -t tmpfs -o size=256m tmpfs /out
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null && cat /sys/kernel/security/lockdown > /out/lockdown.txt 2>/dev/null
say() { echo "bootprof-vm: $*"; }
BP=/sys/kernel/debug/bootprof
mode=${'${bpmode:-workload}'}

# tracefs before everything else too: it sees the same boot as the module, from the same point
if [ "${'${bp_tracefs:-0}'}" = 1 ]; then
  # without bp_tracefs_kb the script sizes its buffer from RAM and CPUs
  [ -n "${'${bp_tracefs_kb:-}'}" ] && export BOOTPROF_BUF_KB=$bp_tracefs_kb
  if sh /tracefs/bootprof-tracefs-arm 2>/out/tracefs-arm.err; then say "tracefs armed"; else say "tracefs arm failed"; fi
fi

# bootprof first: it must see squashfs arrive (module notifier) and log from the first open.
if [ "$mode" != cli ] && [ "$mode" != hardening ]; then
  if insmod /bootprof.ko ${'${bp_buf_kb:+buf_kb=$bp_buf_kb}'} 2>/out/insmod.err; then say "bootprof loaded"; else say "insmod bootprof failed"; fi
elif [ "$mode" = cli ] && [ "${'${bp_try_insmod:-0}'}" = 1 ]; then
  insmod /bootprof.ko 2>/out/insmod.err
  echo $? > /out/insmod.rc
  rmmod bootprof 2>/dev/null
fi
for m in $(cat /modules/order); do insmod /modules/$m.ko || say "insmod $m failed"; done
i=0
while { [ ! -b /dev/sr0 ] || [ ! -b /dev/vda ]; } && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
[ -b /dev/sr0 ] || say "no /dev/sr0"

BT=
if [ "${'${bp_blktrace:-1}'}" = 1 ] && [ -x /usr/sbin/blktrace ]; then
  mkdir -p /out/blktrace
  (cd /out/blktrace && exec blktrace -d /dev/sr0 -o sr0 >/dev/null 2>&1) & BT="$BT $!"
  sleep 1
fi
mount -t iso9660 -o ro /dev/sr0 /cdrom || say "mount iso9660 failed"
losetup -r /dev/loop0 /cdrom/live/filesystem.squashfs || say "losetup failed"
if [ -n "$BT" ]; then
  (cd /out/blktrace && exec blktrace -d /dev/loop0 -o loop0 >/dev/null 2>&1) & BT="$BT $!"
  sleep 1
fi
mount -t squashfs -o ro /dev/loop0 /sq || say "mount squashfs failed"
mount -t tmpfs tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/sq,upperdir=/rw/upper,workdir=/rw/work /root || say "mount overlay failed"
mount -t proc proc /root/proc
mount -o bind /dev /root/dev

stress() {
  W=
  # readers of many files: read(2) events and, after each drop_caches, page-cache fills
  for n in 1 2; do
    chroot /root /bin/bash -c 'while :; do for f in /usr/lib/x86_64-linux-gnu/* /usr/bin/* /usr/share/bootprof-data/*; do [ -f "$f" ] && cat "$f" >/dev/null; done; done' & W="$W $!"
  done
  # exec and mmap: every program start maps its binary and libraries
  chroot /root /bin/bash -c 'while :; do md5sum /usr/bin/* >/dev/null; sort /usr/share/bootprof-data/words.txt | uniq | wc -l >/dev/null; done' & W="$W $!"
  chroot /root /bin/bash -c 'while :; do dd if=/usr/share/bootprof-data/large.bin of=/dev/null bs=4k 2>/dev/null; grep -c x /usr/share/bootprof-data/words.txt >/dev/null; done' & W="$W $!"
  # phase 1: a clean window for the throughput figure (no control writes), a debugfs reader running
  (while :; do cat $BP/events >/dev/null; cat $BP/files >/dev/null; cat $BP/stats >> /out/stress-stats.txt; done) 2>/dev/null & R=$!
  sleep 1
  echo clear > $BP/control
  { cat /proc/uptime; cat $BP/stats; } > /out/window-start.txt
  sleep 1; echo 3 > /proc/sys/vm/drop_caches; sleep 2
  { cat /proc/uptime; cat $BP/stats; } > /out/window-end.txt
  # phase 2: a control writer stops, clears and restarts the log while the probes fire
  (while :; do echo stop > $BP/control; sleep 0.3; echo clear > $BP/control; echo start > $BP/control; sleep 0.7; done) 2>/dev/null & C=$!
  end=$(( $(date +%s) + ${'${bp_stress_s:-8}'} ))
  while [ $(date +%s) -lt $end ]; do echo 3 > /proc/sys/vm/drop_caches; sleep 1; done
  kill $R $C; wait $R $C 2>/dev/null
  echo start > $BP/control
  sleep 1
  cat $BP/stats > /out/stats-final-running.txt
  # unload while the workers still produce events; rmmod fails with EBUSY only while a file is open
  n=0
  until rmmod bootprof 2>>/out/rmmod.err; do n=$((n+1)); [ $n -ge 50 ] && break; sleep 0.1; done
  echo $n > /out/rmmod-retries.txt
  if [ -d /sys/module/bootprof ]; then echo 1; else echo 0; fi > /out/rmmod.rc
  sleep 1
  kill $W; wait $W 2>/dev/null
  say "stress done"
}

# Issue 11: bad parameters, a hook that cannot attach, the read clamp, scope, pending opens, drops.
hardening() {
  KO=/bootprof.ko
  for p in hooks=open,bogus hooks= fs_types=a,b,c,d,e,f,g,h,i fs_types=overlay,abcdefghijklmnopqrstuvwxyz0123456 \
      scope=host maxactive=8 fail_hook=nothing; do
    insmod $KO "$p" 2>>/out/badparam.err; echo "$p $?" >> /out/badparam.txt
    if [ -d /sys/module/bootprof ]; then echo "$p loaded" >> /out/badparam.txt; rmmod bootprof; fi
  done
  # each hook fails to attach in turn while a reader tries to hold a debugfs file open
  for h in exec fault open read sqread; do
    (while :; do for f in events files stats; do sleep 2 < $BP/$f && echo "$h opened $f" >> /out/failhook-reader.txt; done; done) 2>/dev/null & R=$!
    insmod $KO fail_hook=$h 2>>/out/failhook.err; echo "$h $?" >> /out/failhook.txt
    kill $R; wait $R 2>/dev/null
    if [ -d /sys/module/bootprof ]; then echo "$h loaded" >> /out/failhook.txt; rmmod bootprof; fi
    if [ -d $BP ]; then echo "$h debugfs-left" >> /out/failhook.txt; fi
  done
  # debugfs itself fails (its last file, after a 3 s pause) while the reader holds an earlier file open
  # (the child shell says so while it holds the file: before its close lets the load end)
  (while :; do for f in events files stats; do sh -c 'echo "opened $1" >> /out/faildebugfs-reader.txt; sleep 2' _ $f < $BP/$f; done; done) 2>/dev/null & R=$!
  insmod $KO fail_hook=debugfs 2>>/out/faildebugfs.err; echo "debugfs $?" >> /out/faildebugfs.txt
  kill $R; wait $R 2>/dev/null
  if [ -d /sys/module/bootprof ]; then echo "debugfs loaded" >> /out/faildebugfs.txt; rmmod bootprof; fi
  if [ -d $BP ]; then echo "debugfs debugfs-left" >> /out/faildebugfs.txt; fi

  insmod $KO; echo $? > /out/load.rc
  stat -c '%n %a' $BP/events $BP/files $BP/stats $BP/control > /out/modes.txt
  /bigread /root/usr/share/bootprof-data/filler-a.bin > /out/bigread.txt 2>&1
  stat -c %s /root/usr/share/bootprof-data/filler-a.bin > /out/filler-a.size
  # a "container": its own mount namespace and its own root (the bare squashfs)
  unshare -m chroot /sq /usr/bin/cat /usr/share/bootprof-data/filler-c.bin > /dev/null; echo "container $?" >> /out/scope.txt
  # its own namespace over the live root (a sandboxed service): still the system being profiled
  unshare -m cat /sq/usr/share/bootprof-data/filler-m.bin > /dev/null; echo "sandboxed $?" >> /out/scope.txt
  # more do_filp_open calls pending at once than the old maxactive (64): readers of a FIFO block inside it
  mkfifo /root/tmp/bp-fifo
  W=; n=0
  while [ $n -lt 150 ]; do cat /root/tmp/bp-fifo > /dev/null & W="$W $!"; n=$((n+1)); done
  i=0
  while [ $i -lt 100 ]; do
    b=0; for p in $W; do case "$(cat /proc/$p/wchan 2>/dev/null)" in *fifo*|*partner*|*pipe*) b=$((b+1));; esac; done
    [ $b -ge 150 ] && break; sleep 0.2; i=$((i+1))
  done
  echo $b > /out/fifo-blocked.txt
  echo x > /root/tmp/bp-fifo
  wait $W
  echo stop > $BP/control
  cat $BP/events > /out/events.tsv
  cat $BP/stats > /out/stats.txt
  rmmod bootprof; echo $? > /out/rmmod.rc

  # drops: a 16 KiB log of open events only. 200-byte paths make 280-byte records: 58 fit, 144 bytes
  # stay free. After the first drop, opens of a short path (88-byte records, they would fit) must
  # be dropped too: full is sticky.
  L=/root/tmp/$(head -c 190 /dev/zero | tr '\0' x)
  : > $L; : > /root/tmp/s
  insmod $KO buf_kb=16 hooks=open; echo $? > /out/load-small.rc
  n=0; while [ $n -lt 100 ]; do : < $L; n=$((n+1)); done
  cat $BP/stats > /out/drop-stats-1.txt
  n=0; while [ $n -lt 20 ]; do : < /root/tmp/s; n=$((n+1)); done
  cat $BP/stats > /out/drop-stats-2.txt
  echo stop > $BP/control
  cat $BP/events > /out/drop-events.tsv
  rmmod bootprof; echo $? >> /out/rmmod.rc
  say "hardening done"
}

say "workload start mode=$mode"
if [ "$mode" = stress ]; then
  stress
elif [ "$mode" = hardening ]; then
  hardening
elif [ "$mode" = cli ]; then
  mount -t sysfs sysfs /root/sys
  mount -t debugfs debugfs /root/sys/kernel/debug
  if [ "${'${bp_method:-kmod}'}" = tracefs ]; then
    mount -t tracefs tracefs /root/sys/kernel/tracing
    mount -t tracefs tracefs /sys/kernel/tracing
    chroot /root /usr/bin/node /opt/bootprof/dist/cli/main.js capture --method tracefs \
      --until-file /tmp/workload-done -o /tmp/capture > /out/cli.out 2>&1 & P=$!
    I=/sys/kernel/tracing/instances/bootprof
    # a new instance starts with tracing_on=1 and no events: ready once the CLI has enabled the
    # page-cache event (after it turned tracing off) and turned tracing back on
    ready() { [ "$(cat $I/events/filemap/mm_filemap_add_to_page_cache/enable 2>/dev/null)" = 1 ] && [ "$(cat $I/tracing_on 2>/dev/null)" = 1 ]; }
  else
    chroot /root /usr/bin/node /opt/bootprof/dist/cli/main.js capture --module /opt/bootprof/bootprof.ko \
      --until-file /tmp/workload-done -o /tmp/capture > /out/cli.out 2>&1 & P=$!
    ready() { [ -d /sys/kernel/debug/bootprof ]; }
  fi
  i=0
  while ! ready && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
  say "bootprof capture started after $i ticks"
  chroot /root /bin/bash /workload.sh > /out/workload.out 2>&1
  echo $? > /out/workload.rc
  touch /root/tmp/workload-done
  wait $P
  echo $? > /out/cli.rc
  say "bootprof capture exited rc=$(cat /out/cli.rc)"
  cp -r /root/tmp/capture /out/cli-capture
  if [ -d /sys/module/bootprof ]; then echo 1; else echo 0; fi > /out/rmmod.rc
else
  chroot /root /bin/bash /workload.sh > /out/workload.out 2>&1
  echo $? > /out/workload.rc
  say "workload done rc=$(cat /out/workload.rc)"
  cat $BP/stats > /out/stats-running.txt
  echo stop > $BP/control
  cat $BP/events > /out/events.tsv
  cat $BP/files > /out/files.list
  cat $BP/stats > /out/stats.txt
  rmmod bootprof
  echo $? > /out/rmmod.rc
  if [ "${'${bp_tracefs:-0}'}" = 1 ]; then sh /tracefs/bootprof-tracefs-save /out/tracefs 2>/out/tracefs-save.err; fi
fi
cat /proc/modules > /out/modules-after.txt
[ -d $BP ] && echo present > /out/debugfs-left.txt
if [ -n "$BT" ]; then
  kill -INT $BT; wait $BT 2>/dev/null
  cd /out/blktrace && for d in sr0 loop0; do blkparse -i $d > /out/blkparse-$d.txt 2>/dev/null; done; cd /
fi
dmesg > /out/dmesg.txt
tar -cf /dev/vda -C /out . && say "results written"
sync
say "poweroff"
poweroff -f
`;
}
