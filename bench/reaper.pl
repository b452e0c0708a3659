#!/usr/bin/perl
# bench/reaper.pl LOG CMD [ARGS...]: runs CMD as the only child of a child subreaper
# (prctl PR_SET_CHILD_SUBREAPER), so every process orphaned below CMD -- a shim daemon whose
# `start` action exited, a container init whose `runc create` exited -- is re-parented to this
# process instead of to init. When one of them exits, it is a zombie until this process reaps
# it, and a zombie's /proc/PID/stat still holds its final CPU time: utime and stime of the whole
# thread group (every thread, also those that exited before) and, separately, cutime and cstime
# of the children it reaped (the shim's runc calls). Before reaping, one line per zombie is
# appended to LOG:
#   PID UTIME STIME CUTIME CSTIME NS COMM
# UTIME..CSTIME in clock ticks (/proc/PID/stat fields 14-17), COMM field 2; NS is the run time
# of the zombie's remaining thread, the group leader, in ns (/proc/PID/schedstat): the whole
# process's exact CPU time if it only ever had that one thread.
# The zombie is seen with waitid(P_ALL, WEXITED|WNOWAIT), which leaves it in place, then reaped
# with waitpid(PID). Exits with CMD's status; LOG is removed then. bench/run.sh runs itself
# under this (it is the only way to read a daemon's CPU time after its last RPC: sampling it
# before `ctr task delete` would miss Delete and Shutdown, and after the exit it is gone).
use strict;
use warnings;
use POSIX qw(WIFEXITED WEXITSTATUS WIFSIGNALED WTERMSIG);

my $log = shift @ARGV or die "usage: reaper.pl LOG CMD [ARGS...]\n";
@ARGV or die "usage: reaper.pl LOG CMD [ARGS...]\n";
my ($SYS_prctl, $SYS_waitid) = (157, 247); # x86_64
my ($PR_SET_CHILD_SUBREAPER, $P_ALL, $WEXITED, $WNOWAIT) = (36, 0, 4, 0x01000000);
syscall($SYS_prctl, $PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
	or die "reaper.pl: prctl(PR_SET_CHILD_SUBREAPER): $!\n";

open(my $fh, '>>', $log) or die "reaper.pl: $log: $!\n";
$fh->autoflush(1);

my $child = fork() // die "reaper.pl: fork: $!\n";
if ($child == 0) {
	close($fh);
	exec { $ARGV[0] } @ARGV or die "reaper.pl: exec $ARGV[0]: $!\n";
}
# Ctrl-C reaches CMD too (same process group); a TERM for this process is passed on.
$SIG{INT} = 'IGNORE';
$SIG{TERM} = sub { kill 'TERM', $child };

my $status = 1;
for (;;) {
	my $si = "\0" x 128; # siginfo_t; si_pid at offset 16 on x86_64
	my $r = syscall($SYS_waitid, $P_ALL, 0, $si, $WEXITED | $WNOWAIT, 0);
	if ($r < 0) {
		next if $!{EINTR};
		last; # ECHILD: nothing left
	}
	my $pid = unpack('x16 i', $si);
	next if $pid <= 0;
	if ($pid != $child && open(my $st, '<', "/proc/$pid/stat")) {
		my $s = <$st> // '';
		close($st);
		if ($s =~ /^\d+ \((.*)\) (.*)$/s) {
			my ($comm, @f) = ($1, split(' ', $2)); # $f[0] is field 3 (state)
			my $ns = -1;
			if (open(my $ss, '<', "/proc/$pid/schedstat")) {
				($ns) = split(' ', <$ss> // '-1');
				close($ss);
			}
			print $fh "$pid $f[11] $f[12] $f[13] $f[14] $ns $comm\n";
		}
	}
	next if waitpid($pid, 0) != $pid;
	if ($pid == $child) {
		$status = WIFEXITED($?) ? WEXITSTATUS($?) : WIFSIGNALED($?) ? 128 + WTERMSIG($?) : 1;
		last;
	}
}
close($fh);
unlink($log);
exit($status);
