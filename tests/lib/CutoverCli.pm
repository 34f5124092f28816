# SPDX-License-Identifier: MIT
# cutoverctl runs for the CLI tests (pools_cli.t, health_cli.t): a fixed actor, the JSON
# documents, and "a rejected command leaves the database untouched". The functions act on the
# CutoverTest fixture given to cli_fixture().
package CutoverCli;

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP;
use Test::More;

our @EXPORT_OK = qw(cli_fixture show ctl ctl_ok json_of state rejected pool_json weights serial
		    history_json);

my $JSON = JSON::PP->new->canonical;
my $T; # the fixture

# The CutoverTest fixture whose database the functions below use.
sub cli_fixture
{
	($T) = @_;
	return $T;
}

# A cutoverctl run for diagnostics.
sub show
{
	my ($r) = @_;
	return "exit=$r->{exit}\nstdout: $r->{out}\nstderr: $r->{err}";
}

# cutoverctl with a fixed actor (so that history is predictable) unless the args give one;
# an optional first hash holds CutoverTest::ctl's options.
sub ctl
{
	my @args = @_;
	my %o = (ref $args[0] eq 'HASH') ? %{ shift @args } : ();
	return $T->ctl(\%o, '--actor', 'tester', @args);
}

# ctl(@args) must exit 0; returns the run.
sub ctl_ok
{
	my ($desc, @args) = @_;
	my $r = ctl(@args);
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($r->{exit}, 0, $desc) or diag(show($r));
	return $r;
}

# The JSON document on a run's stdout, or undef.
sub json_of
{
	my ($r) = @_;
	return eval { $JSON->decode($r->{out}) };
}

# Everything a command could change: the pools, their history, their targets' health, the
# zones with their serials and record counts.
sub state
{
	my @parts;
	for my $args ([qw(export-pools)], [qw(history --json)], [qw(status --json)], [qw(zone list)]) {
		my $r = $T->ctl(@$args);
		push @parts, "== @$args (exit $r->{exit})\n$r->{out}";
	}
	return join('', @parts);
}

# The command must fail with exit status $exit, say something matching $re on stderr, and
# leave the database exactly as it was.
sub rejected
{
	my ($desc, $args, $exit, $re) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $before = state();
	my $r = ctl(@$args);
	my $ok = is($r->{exit}, $exit, "$desc: exit $exit");
	$ok &&= like($r->{err}, $re, "$desc: the message names what is wrong");
	$ok &&= is($r->{out}, '', "$desc: nothing on stdout");
	$ok &&= ok(state() eq $before, "$desc: the database is untouched");
	diag(show($r)) unless $ok;
	return $ok;
}

# The pool NAME of type TYPE (default A) as `status --json` shows it, or undef.
sub pool_json
{
	my ($name, $type) = @_;
	my $doc = json_of(ctl('status', $name, '--type', $type // 'A', '--json')) or return undef;
	return $doc->{pools}[0];
}

# "blue=90 green=10": the weights of a pool.
sub weights
{
	my ($name, $type) = @_;
	my $p = pool_json($name, $type) or return '';
	return join(' ', map { "$_->{name}=$_->{weight}" } @{ $p->{groups} });
}

# The serial of ZONE (default pools.test) in `zone list`; -1 when it is not there.
sub serial
{
	my ($zone) = @_;
	$zone //= 'pools.test';
	my $r = $T->ctl(qw(zone list));
	return $r->{out} =~ /^\Q$zone\E\.\s+(\d+)/m ? $1 : -1;
}

# The entries of `history ARGS --json`, newest first.
sub history_json
{
	my (@args) = @_;
	my $doc = json_of(ctl('history', @args, '--json'));
	return $doc ? $doc->{history} : [];
}

1;
