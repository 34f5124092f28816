#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Pool answers end to end, a real cutoverd driven by the real cutoverctl: weighted shares over
# 10,000 queries, one group per answer, TTL, AA, rotation and the answer cap, cutover/rollback
# seen by the very next query, sticky groups by EDNS Client Subnet or source address (with the
# ECS scope in replies), failover order, weight flips under a steady query load, preview names,
# negative answers around pools, an AAAA pool beside an A pool, and pool deletion.
use strict;
use warnings;

use IO::Select;
use IO::Socket::IP;
use JSON::PP ();
use Net::DNS;
use POSIX ();
use Socket qw(AF_INET AF_INET6 MSG_DONTWAIT inet_pton inet_ntop);
use Time::HiRes ();
use Test::More;

use CutoverTest qw(zone_path read_zone rrsets_of reply_is tcp_exchange timeout_scale slurp
		   write_file);

my $APEX = 'app.example';
my $SETS = rrsets_of(read_zone(zone_path($APEX)));

# Targets. Each address belongs to one group name in every pool, so an answer's group is known
# from its addresses alone.
my %T = (
	blue => [qw(192.0.2.11 192.0.2.12 192.0.2.13)],
	green => [qw(198.51.100.11 198.51.100.12 198.51.100.13)],
	east => [qw(203.0.113.1 203.0.113.2)],
	west => [qw(203.0.113.11 203.0.113.12)],
	south => [qw(203.0.113.21)],
	blue6 => [qw(2001:db8:b1::11 2001:db8:b1::12)],
	green6 => [qw(2001:db8:9::11 2001:db8:9::12 2001:db8:9::13)],
);
my %GROUP_OF;
for my $g (keys %T) {
	(my $name = $g) =~ s/6$//;
	$GROUP_OF{ canon($_) } = $name for @{ $T{$g} };
}

# The pool names of this test (each with its preview names): none may hold static records in
# zones/app.example.zone, or the test would be about something else.
my @POOLS = qw(svc rot one two cut sticky fo flip pv np dual gone applied big alias alias2);

my $t = CutoverTest->new(zones => [ zone_path($APEX) ], start => 1, threads => 2);

# Children forked by this test (the load generator); stopped if the test dies.
my %KIDS;

END {
	local $?;
	for my $pid (keys %KIDS) {
		kill('KILL', $pid);
		waitpid($pid, 0);
	}
}

# ---------------------------------------------------------------------------------------------
# Helpers.

sub canon
{
	my ($a) = @_;
	my $fam = $a =~ /:/ ? AF_INET6 : AF_INET;
	my $bin = inet_pton($fam, $a) // die "bad address $a";
	return inet_ntop($fam, $bin);
}

sub fqdn
{
	my ($label) = @_;
	return "$label.$APEX";
}

sub show
{
	my ($r) = @_;
	return "exit=$r->{exit}\nstdout: $r->{out}\nstderr: $r->{err}";
}

# cutoverctl with --actor; one ok() named $what; true on exit 0.
sub ctl_ok
{
	my ($what, @args) = @_;
	my $r = $t->ctl('--actor', 'pools_answers.t', @args);
	return 1 if is($r->{exit}, 0, $what);
	diag("cutoverctl @args\n" . show($r));
	return 0;
}

# --group options for the named target lists: group('blue', 'green') or group(east => 'east').
sub groups
{
	my (@names) = @_;
	return map { ('--group', "$_->[0]=" . join(',', @{ $T{ $_->[1] } })) }
		map { ref $_ ? $_ : [ $_, $_ ] } @names;
}

my %QTYPE = (A => 1, NS => 2, SOA => 6, TXT => 16, AAAA => 28);

sub wire_name
{
	my ($name) = @_;
	$name =~ s/\.$//;
	return join('', map { chr(length $_) . $_ } split /\./, $name) . "\0";
}

# ECS option payload (RFC 7871 6): FAMILY, SOURCE PREFIX-LENGTH, SCOPE 0, and the address cut
# to ceil(source / 8) octets (the test passes addresses with no bits set past the prefix).
sub ecs_payload
{
	my ($family, $source, $addr) = @_;
	my $bin = inet_pton($family == 1 ? AF_INET : AF_INET6, $addr) // die "bad address $addr";
	return pack('nCC', $family, $source, 0) . substr($bin, 0, int(($source + 7) / 8));
}

# A query in wire format (ID 0, RD clear): wire_query(NAME, TYPE, ecs => [FAMILY, SOURCE, ADDR])
# adds an OPT (payload 1232) carrying the ECS option (ecs_raw => PAYLOAD: given as is); edns => 1
# adds a bare OPT.
sub wire_query
{
	my ($name, $type, %o) = @_;
	my $opt = '';
	if ($o{ecs} || defined $o{ecs_raw} || $o{edns}) {
		my $data = '';
		if ($o{ecs} || defined $o{ecs_raw}) {
			my $p = $o{ecs} ? ecs_payload(@{ $o{ecs} }) : $o{ecs_raw};
			$data = pack('nn', 8, length $p) . $p;
		}
		$opt = "\0" . pack('nnNn', 41, 1232, 0, length $data) . $data;
	}
	return pack('nnnnnn', 0, 0, 1, 0, 0, $opt ne '' ? 1 : 0) . wire_name($name)
		. pack('nn', $QTYPE{$type} // die("type $type"), 1) . $opt;
}

sub question_len
{
	my ($msg) = @_;
	my $o = 12;
	while (my $l = ord(substr($msg, $o, 1))) {
		$o += $l + 1;
	}
	return $o + 5 - 12;
}

# Send every query (wire format; IDs are assigned here) over UDP with up to `window` in flight
# on one socket (bound to `local` if given), each waited for up to `timeout` seconds. Returns an
# array ref of the raw replies in query order, undef where none came.
sub udp_burst
{
	my ($queries, %o) = @_;
	my $window = $o{window} // 32;
	my $timeout = $o{timeout} // 5 * timeout_scale();
	my $sock = IO::Socket::IP->new(PeerHost => $t->host, PeerPort => $t->port, Proto => 'udp',
				       defined $o{local} ? (LocalHost => $o{local}) : ())
		or die "udp socket to " . $t->host . ':' . $t->port
		. (defined $o{local} ? " from $o{local}" : '') . ": $!";
	my $sel = IO::Select->new($sock);
	my (@replies, %flight);
	my ($next, $done, $id) = (0, 0, int(rand(65536)));
	$#replies = $#$queries;
	while ($done < @$queries) {
		while ($next < @$queries && keys(%flight) < $window) {
			do { $id = ($id + 1) & 0xFFFF } while exists $flight{$id};
			my $q = $queries->[$next];
			substr($q, 0, 2, pack('n', $id));
			defined $sock->send($q) or die "send: $!";
			$flight{$id} = [ $next++, Time::HiRes::time() + $timeout, $q, question_len($q) ];
		}
		if ($sel->can_read(0.2)) {
			while (1) {
				my $buf;
				last unless defined $sock->recv($buf, 65535, MSG_DONTWAIT);
				last unless length $buf;
				next if length $buf < 12;
				my $f = $flight{ unpack('n', $buf) } or next;
				# A late reply to a query that timed out could reuse an ID: match the question.
				next unless substr($buf, 12, $f->[3]) eq substr($f->[2], 12, $f->[3]);
				delete $flight{ unpack('n', $buf) };
				$replies[ $f->[0] ] = $buf;
				$done++;
			}
		}
		my $now = Time::HiRes::time();
		for my $k (keys %flight) {
			next if $flight{$k}[1] > $now;
			delete $flight{$k};
			$done++;
		}
	}
	return \@replies;
}

sub parse
{
	my ($raw) = @_;
	return undef unless defined $raw;
	my $p = Net::DNS::Packet->new(\$raw); # (in list context new() also returns the offset)
	return $p;
}

# One query over UDP (fresh socket, so that queries spread over the worker threads) or TCP.
sub ask
{
	my ($name, $type, %o) = @_;
	my $q = wire_query($name, $type, %o);
	if ($o{tcp}) {
		substr($q, 0, 2, pack('n', int(rand(65536))));
		my ($raw) = tcp_exchange($t->host, $t->port, [$q]);
		return parse($raw);
	}
	return parse(udp_burst([$q], local => $o{local})->[0]);
}

# The addresses of a reply's answer section of this type, canonical text, in order.
sub addrs
{
	my ($p, $type) = @_;
	return () unless $p;
	$type //= 'A';
	return map { canon($_->address) } grep { $_->type eq $type } $p->answer;
}

# What a reply answered: the group name when every address belongs to one group, 'mixed', or a
# word for what is wrong ('no reply', 'NXDOMAIN', 'empty', 'unknown 1.2.3.4').
sub group_of
{
	my ($p, $type) = @_;
	return 'no reply' unless $p;
	return $p->header->rcode unless $p->header->rcode eq 'NOERROR';
	my @a = addrs($p, $type);
	return 'empty' unless @a;
	my %g;
	for (@a) {
		return "unknown $_" unless $GROUP_OF{$_};
		$g{ $GROUP_OF{$_} } = 1;
	}
	return keys(%g) == 1 ? (keys %g)[0] : 'mixed';
}

# The ECS option of a reply as { family, source, scope, addr (raw octets) }, or undef.
sub ecs_of
{
	my ($p) = @_;
	return undef unless $p;
	my $raw = $p->edns->option(8);
	return undef unless defined $raw && length $raw >= 4;
	my ($family, $source, $scope) = unpack('nCC', $raw);
	return { family => $family, source => $source, scope => $scope, addr => substr($raw, 4) };
}

sub ecs_text
{
	my ($e) = @_;
	return 'no ECS option' unless $e;
	return "family $e->{family} source $e->{source} scope $e->{scope} address "
		. unpack('H*', $e->{addr});
}

# A reply answers exactly the addresses of the target list $list (in any order): NOERROR, AA,
# the pool's TTL on every record, nothing else in the answer. One ok(); diag on failure.
sub answers_list
{
	my ($p, $list, $ttl, $desc, $type) = @_;
	$type //= 'A';
	my @why;
	if (!$p) {
		push @why, 'no reply';
	} else {
		push @why, 'RCODE ' . $p->header->rcode unless $p->header->rcode eq 'NOERROR';
		push @why, 'AA clear' unless $p->header->aa;
		my @got = sort(addrs($p, $type));
		my @want = sort map { canon($_) } @{ $T{$list} };
		push @why, "addresses [@got], want [@want]" unless "@got" eq "@want";
		my @other = grep { $_->type ne $type } $p->answer;
		push @why, 'other records: ' . join('; ', map { $_->string } @other) if @other;
		my @ttl = grep { $_->ttl != $ttl } grep { $_->type eq $type } $p->answer;
		push @why, "TTL " . $ttl[0]->ttl . ", want $ttl" if @ttl;
	}
	return 1 if ok(!@why, $desc);
	diag(join("\n", @why));
	diag($p->string) if $p;
	return 0;
}

# A negative answer (RFC 2308): RCODE, AA, an empty answer and the zone's SOA alone in the
# authority section with TTL = min(SOA TTL, minimum) (section 3). Pool changes bump the serial,
# so the serial only has to be at least the file's. (CutoverTest's no_serial cannot zero it:
# Net::DNS's serial() only moves forward in sequence space.) One ok(); diag on failure.
sub negative_ok
{
	my ($p, $rcode, $desc) = @_;
	my ($soa) = @{ $SETS->{"$APEX|SOA"} };
	my $ttl = $soa->ttl < $soa->minimum ? $soa->ttl : $soa->minimum;
	my @why;
	if (!$p) {
		push @why, 'no reply';
	} else {
		push @why, 'RCODE ' . $p->header->rcode . ", want $rcode" unless $p->header->rcode eq $rcode;
		push @why, 'AA clear' unless $p->header->aa;
		push @why, 'answer not empty' if $p->answer;
		my @auth = $p->authority;
		if (@auth != 1 || $auth[0]->type ne 'SOA') {
			push @why, 'authority is not one SOA';
		} else {
			my $got = $auth[0];
			push @why, 'SOA owner ' . $got->owner unless lc($got->owner) eq $APEX;
			push @why, 'SOA TTL ' . $got->ttl . ", want $ttl" unless $got->ttl == $ttl;
			for my $f (qw(mname rname refresh retry expire minimum)) {
				push @why, "SOA $f " . $got->$f . ', want ' . $soa->$f
					unless lc($got->$f) eq lc($soa->$f);
			}
			push @why, 'SOA serial ' . $got->serial . ' below the file\'s ' . $soa->serial
				if $got->serial < $soa->serial;
		}
	}
	return 1 if ok(!@why, $desc);
	diag(join("\n", @why));
	diag($p->string) if $p;
	return 0;
}

sub nodata_ok
{
	my ($p, $desc) = @_;
	return negative_ok($p, 'NOERROR', $desc);
}

sub nxdomain_ok
{
	my ($p, $desc) = @_;
	return negative_ok($p, 'NXDOMAIN', $desc);
}

# Query NAME n times (fresh UDP sockets, or TCP) and count the groups answered.
sub tally
{
	my ($name, $n, %o) = @_;
	my %c;
	$c{ group_of(ask($name, $o{type} // 'A', %o), $o{type}) }++ for 1 .. $n;
	return \%c;
}

# At most the first 10 of a list, for diagnostics.
sub first10
{
	return @_[ 0 .. ($#_ < 9 ? $#_ : 9) ];
}

sub tally_text
{
	my ($c) = @_;
	return join(', ', map { "$_: $c->{$_}" } sort keys %$c);
}

# Group weights found in `status NAME --json`, whatever the document's exact shape: objects
# with a name/group and a weight, objects keyed by group name holding a weight, or a "weights"
# object of group => number.
sub json_weights
{
	my ($d, $out) = @_;
	$out //= {};
	if (ref $d eq 'HASH') {
		my $nm = $d->{name} // $d->{group};
		$out->{$nm} = $d->{weight} if defined $nm && !ref $nm && defined $d->{weight}
			&& !ref $d->{weight};
		for my $k (keys %$d) {
			my $v = $d->{$k};
			if ($k eq 'weights' && ref $v eq 'HASH') {
				$out->{$_} = $v->{$_} for grep { !ref $v->{$_} } keys %$v;
			} elsif (ref $v eq 'HASH' && defined $v->{weight} && !ref $v->{weight}
				 && !defined($v->{name} // $v->{group})) {
				$out->{$k} = $v->{weight};
			}
			json_weights($v, $out) if ref $v;
		}
	} elsif (ref $d eq 'ARRAY') {
		json_weights($_, $out) for @$d;
	}
	return $out;
}

# ---------------------------------------------------------------------------------------------
subtest 'the pool names of this test hold no static records' => sub {
	for my $label (@POOLS) {
		my $name = lc fqdn($label);
		my @clash = grep { my ($o) = split /\|/; $o eq $name || $o =~ /\.\Q$name\E$/ } keys %$SETS;
		is("@clash", '', "nothing at or below $name in zones/app.example.zone");
	}
};

# ---------------------------------------------------------------------------------------------
subtest 'a new pool answers its first group at once' => sub {
	ctl_ok('pool set svc', qw(pool set), fqdn('svc'), qw(--ttl 17), groups('blue', 'green'))
		or return;
	answers_list(ask(fqdn('svc'), 'A'), 'blue', 17, 'UDP: blue (weight 100 on create), TTL 17, AA');
	answers_list(ask(fqdn('svc'), 'A', tcp => 1), 'blue', 17, 'TCP: the same');
	my $p = ask(fqdn('svc'), 'A', edns => 1);
	answers_list($p, 'blue', 17, 'with EDNS: the same');
	is(scalar(grep { $_->type ne 'OPT' } $p ? ($p->authority, $p->additional) : ()), 0,
	   'a positive pool answer adds no authority or additional records');
	answers_list(ask('SvC.APP.example', 'A'), 'blue', 17, 'the name matches case-insensitively');
	reply_is(ask("www.$APEX", 'A'), { rcode => 'NOERROR', aa => 1, answer => $SETS->{"www.$APEX|A"} },
		 'static www A is still answered beside the pool');
};

# ---------------------------------------------------------------------------------------------
subtest 'weighted 90/10: green\'s share of 10,000 queries' => sub {
	ctl_ok('weight svc blue=90 green=10', 'weight', fqdn('svc'), 'blue=90', 'green=10') or return;
	my $n = 10000;
	my $q = wire_query(fqdn('svc'), 'A');
	my $replies = udp_burst([ ($q) x $n ], window => 32);
	my (%c, %bad, $ttl_bad, $aa_bad);
	for my $raw (@$replies) {
		my $p = parse($raw);
		my $g = group_of($p);
		$c{$g}++;
		next unless $p && $p->header->rcode eq 'NOERROR';
		$aa_bad++ unless $p->header->aa;
		$ttl_bad++ if grep { $_->ttl != 17 } $p->answer;
		my @a = addrs($p);
		$bad{count}++ if @a != 3;
	}
	note('10,000 queries at blue=90 green=10: ' . tally_text(\%c));
	my $answered = ($c{blue} // 0) + ($c{green} // 0);
	is($answered, $n, "all $n queries answered with one group") or diag(tally_text(\%c));
	is($c{mixed} // 0, 0, 'no answer mixes blue and green');
	my $share = $answered ? 100 * ($c{green} // 0) / $answered : 0;
	cmp_ok(abs($share - 10), '<=', 1.5,
	       sprintf('green has %.2f%% of the answers (10 +- 1.5)', $share));
	is($aa_bad // 0, 0, 'AA set in every answer');
	is($ttl_bad // 0, 0, 'TTL 17 on every record');
	is($bad{count} // 0, 0, 'every answer holds all 3 targets of its group (--answers 0)');

	# Weight 0 is never answered; all weights 0 share the answers equally.
	ctl_ok('weight svc blue=100 green=0', 'weight', fqdn('svc'), 'blue=100', 'green=0') or return;
	%c = ();
	$c{ group_of(parse($_)) }++ for @{ udp_burst([ ($q) x 2000 ]) };
	is(tally_text(\%c), 'blue: 2000', '2,000 queries at blue=100 green=0: all blue');
	ctl_ok('weight svc blue=0 green=0', 'weight', fqdn('svc'), 'blue=0', 'green=0') or return;
	%c = ();
	$c{ group_of(parse($_)) }++ for @{ udp_burst([ ($q) x 2000 ]) };
	$share = 100 * ($c{green} // 0) / 2000;
	ok(($c{blue} // 0) + ($c{green} // 0) == 2000 && abs($share - 50) <= 5,
	   sprintf('2,000 queries at blue=0 green=0: both groups, green %.1f%% (50 +- 5)', $share))
		or diag(tally_text(\%c));
};

# ---------------------------------------------------------------------------------------------
subtest 'rotation and the answer cap' => sub {
	ctl_ok('pool set rot', qw(pool set), fqdn('rot'), groups('blue', 'green')) or return;
	my (%first, $full);
	for (1 .. 30) {
		my $p = ask(fqdn('rot'), 'A');
		my @a = addrs($p);
		$first{ $a[0] }++ if @a;
		$full++ if join(' ', sort @a) eq join(' ', sort @{ $T{blue} });
	}
	is($full // 0, 30, '30 answers, each all of blue\'s targets');
	is(join(' ', sort keys %first), join(' ', sort @{ $T{blue} }),
	   'each of blue\'s targets comes first at some point (rotation)')
		or diag('first addresses: ' . tally_text(\%first));

	ctl_ok('pool set one --answers 1', qw(pool set), fqdn('one'), qw(--answers 1),
	       groups('blue', 'green')) or return;
	my (%seen, @sizes);
	for (1 .. 30) {
		my @a = addrs(ask(fqdn('one'), 'A', tcp => $_ % 2));
		push @sizes, scalar @a;
		$seen{$_}++ for @a;
	}
	is(join(',', grep { $_ != 1 } @sizes), '', '--answers 1: exactly one address in each of 30 answers');
	is(join(' ', sort keys %seen), join(' ', sort @{ $T{blue} }),
	   '--answers 1: every blue target is served in turn') or diag(tally_text(\%seen));

	ctl_ok('pool set two --answers 2', qw(pool set), fqdn('two'), qw(--answers 2),
	       groups('green', 'blue')) or return;
	my $bad = 0;
	%seen = ();
	for (1 .. 20) {
		my $p = ask(fqdn('two'), 'A');
		my @a = addrs($p);
		my %u = map { $_ => 1 } @a;
		$bad++ unless @a == 2 && keys(%u) == 2 && group_of($p) eq 'green';
		$seen{$_}++ for @a;
	}
	is($bad, 0, '--answers 2: two distinct green addresses in each of 20 answers');
	is(scalar(keys %seen), 3, '--answers 2: all three green targets appear over the answers');
};

# ---------------------------------------------------------------------------------------------
for my $tcp (0, 1) {
	my $how = $tcp ? 'TCP' : 'UDP';
	subtest "$how: cutover and rollback are answered by the very next query" => sub {
		ctl_ok('pool set cut', qw(pool set), fqdn('cut'), groups('blue', 'green')) or return;
		answers_list(ask(fqdn('cut'), 'A', tcp => $tcp), 'blue', 30, 'blue before (default TTL 30)');
		for my $round (1 .. 3) {
			ctl_ok("round $round: cutover cut green", 'cutover', fqdn('cut'), 'green') or return;
			answers_list(ask(fqdn('cut'), 'A', tcp => $tcp), 'green', 30,
				     "round $round: the next query answers green");
			my $c = tally(fqdn('cut'), 6, tcp => $tcp);
			is(tally_text($c), 'green: 6', "round $round: and so do the 6 after it");
			ctl_ok("round $round: rollback cut", 'rollback', fqdn('cut')) or return;
			answers_list(ask(fqdn('cut'), 'A', tcp => $tcp), 'blue', 30,
				     "round $round: the next query after rollback answers blue");
			$c = tally(fqdn('cut'), 6, tcp => $tcp);
			is(tally_text($c), 'blue: 6', "round $round: and so do the 6 after it");
		}
		# A weight change is rolled back too, to the weights before it.
		ctl_ok('weight cut blue=0 green=100', 'weight', fqdn('cut'), 'blue=0', 'green=100');
		answers_list(ask(fqdn('cut'), 'A', tcp => $tcp), 'green', 30, 'weight 0/100: green');
		ctl_ok('rollback cut', 'rollback', fqdn('cut'));
		is(tally_text(tally(fqdn('cut'), 10, tcp => $tcp)), 'blue: 10',
		   'rollback of a weight change: back to blue=100 green=0');
		ctl_ok('pool delete cut', qw(pool delete), fqdn('cut'));
	};
}

subtest 'a rollback is itself a change: rolling it back redoes the cutover' => sub {
	ctl_ok('pool set cut', qw(pool set), fqdn('cut'), groups('blue', 'green')) or return;
	ctl_ok('cutover cut green', 'cutover', fqdn('cut'), 'green') or return;
	ctl_ok('rollback cut', 'rollback', fqdn('cut')) or return;
	answers_list(ask(fqdn('cut'), 'A'), 'blue', 30, 'after the rollback: blue');
	ctl_ok('rollback cut again', 'rollback', fqdn('cut')) or return;
	answers_list(ask(fqdn('cut'), 'A'), 'green', 30, 'after rolling back the rollback: green');
};

subtest 'status --json shows the weights the daemon answers by' => sub {
	ctl_ok('cutover cut blue', 'cutover', fqdn('cut'), 'blue') or return;
	my $r = $t->ctl('status', fqdn('cut'), '--json');
	is($r->{exit}, 0, 'status cut --json') or return diag(show($r));
	my $doc = eval { JSON::PP->new->decode($r->{out}) };
	ok($doc, 'stdout is one JSON document') or return diag($@, $r->{out});
	my $w = json_weights($doc);
	ok(defined $w->{blue} && defined $w->{green} && $w->{blue} == 100 && $w->{green} == 0,
	   'blue 100, green 0') or diag($r->{out});
	answers_list(ask(fqdn('cut'), 'A'), 'blue', 30, 'and the daemon answers blue');
};

# ---------------------------------------------------------------------------------------------
# Sticky: 1,000 client subnets given as ECS options (no traffic goes to them).
my @SUBNETS = map { sprintf('10.%d.%d.0', $_ >> 8, $_ & 255) } 0 .. 999;

# The group of each subnet, and the failures, over one round of queries in the given order.
sub sticky_round
{
	my ($name, $order) = @_;
	my @q = map { wire_query($name, 'A', ecs => [ 1, 24, $SUBNETS[$_] ]) } @$order;
	my $replies = udp_burst(\@q, window => 32);
	my (%group, @bad);
	for my $k (0 .. $#$order) {
		my $i = $order->[$k];
		my $p = parse($replies->[$k]);
		my $g = group_of($p);
		$group{$i} = $g;
		my $e = ecs_of($p);
		my $want = ecs_payload(1, 24, $SUBNETS[$i]);
		if ($g ne 'blue' && $g ne 'green') {
			push @bad, "$SUBNETS[$i]/24: $g";
		} elsif (!$p->header->aa) {
			push @bad, "$SUBNETS[$i]/24: AA clear";
		} elsif (!$e || pack('nCC', $e->{family}, $e->{source}, 0) . $e->{addr} ne $want
			 || $e->{scope} != 24) {
			push @bad, "$SUBNETS[$i]/24: reply ECS " . ecs_text($e)
				. ', want family 1 source 24 scope 24 address ' . unpack('H*', substr($want, 4));
		}
	}
	return (\%group, \@bad);
}

subtest 'sticky: 1,000 ECS subnets keep their group; raising green moves clients only into it' => sub {
	ctl_ok('pool set sticky (blue=90 green=10)', qw(pool set), fqdn('sticky'), qw(--policy sticky),
	       groups('blue', 'green'), qw(--weight blue=90 --weight green=10)) or return;
	my @fwd = 0 .. $#SUBNETS;
	my @rev = reverse @fwd;
	my @odd = ((grep { $_ % 2 } @fwd), (grep { !($_ % 2) } @fwd));
	my ($g1, $bad1) = sticky_round(fqdn('sticky'), \@fwd);
	my ($g2, $bad2) = sticky_round(fqdn('sticky'), \@rev);
	my ($g3, $bad3) = sticky_round(fqdn('sticky'), \@odd);
	my @bad = (@$bad1, @$bad2, @$bad3);
	is(scalar(@bad), 0, '3,000 answers: one group each, AA, ECS echoed with scope 24')
		or diag(join("\n", first10(@bad)));
	my @moved = grep { $g1->{$_} ne $g2->{$_} || $g1->{$_} ne $g3->{$_} } @fwd;
	is(scalar(@moved), 0, 'every subnet got the same group in all three rounds')
		or diag(join("\n", map { "$SUBNETS[$_]/24: $g1->{$_} $g2->{$_} $g3->{$_}" }
			     first10(@moved)));
	my $green = grep { $g1->{$_} eq 'green' } @fwd;
	note("blue=90 green=10: $green of 1000 subnets on green");
	ok($green >= 60 && $green <= 140, "about 10% of the subnets on green ($green of 1000)");

	ctl_ok('weight sticky blue=90 green=50', 'weight', fqdn('sticky'), 'blue=90', 'green=50')
		or return;
	my ($h1, $badh1) = sticky_round(fqdn('sticky'), \@fwd);
	my ($h2, $badh2) = sticky_round(fqdn('sticky'), \@rev);
	@bad = (@$badh1, @$badh2);
	is(scalar(@bad), 0, 'after the raise: 2,000 answers, one group each, ECS scope 24')
		or diag(join("\n", first10(@bad)));
	my @g2b = grep { $g1->{$_} eq 'green' && $h1->{$_} ne 'green' } @fwd;
	my @b2g = grep { $g1->{$_} eq 'blue' && $h1->{$_} eq 'green' } @fwd;
	my @unstable = grep { $h1->{$_} ne $h2->{$_} } @fwd;
	note(sprintf('green 10->50: %d subnets moved blue->green, %d green->blue', scalar @b2g,
		     scalar @g2b));
	is(scalar(@g2b), 0, 'raising green 10->50 moves no subnet from green to blue')
		or diag(join(', ', map { "$SUBNETS[$_]/24" } first10(@g2b)));
	ok(@b2g > 0, 'and moves some from blue to green (' . scalar(@b2g) . ')');
	is(scalar(@unstable), 0, 'the new groups are stable over two rounds');
};

subtest 'sticky: the ECS scope in replies, and answers that depend on the scoped bits only' => sub {
	my $name = fqdn('sticky');
	my @cases = (
		[ 1, 24, '10.1.2.0', 24 ], [ 1, 16, '10.1.0.0', 16 ], [ 1, 20, '10.1.16.0', 20 ],
		[ 1, 25, '10.1.2.128', 24 ], [ 1, 32, '10.1.2.77', 24 ], [ 1, 0, '0.0.0.0', 0 ],
		[ 2, 48, '2001:db8:aa::', 48 ], [ 2, 56, '2001:db8:aa:bb00::', 56 ],
		[ 2, 64, '2001:db8:aa:bbcc::', 56 ], [ 2, 128, '2001:db8::1', 56 ],
		[ 2, 32, '2001:db8::', 32 ],
	);
	for my $c (@cases) {
		my ($fam, $src, $addr, $scope) = @$c;
		my $p = ask($name, 'A', ecs => [ $fam, $src, $addr ]);
		my $e = ecs_of($p);
		my $want = ecs_payload($fam, $src, $addr);
		my $ok = $e && $e->{family} == $fam && $e->{source} == $src && $e->{scope} == $scope
			&& $e->{addr} eq substr($want, 4);
		ok($ok && grep({ $_ eq group_of($p) } qw(blue green)),
		   "ECS $addr/$src: answered, reply ECS family $fam source $src scope $scope, same address")
			or diag('got ' . ecs_text($e) . '; answer: ' . group_of($p));
	}

	my $p = ask($name, 'A', tcp => 1, ecs => [ 1, 24, '10.1.2.0' ]);
	my $e = ecs_of($p);
	my $udp = ask($name, 'A', ecs => [ 1, 24, '10.1.2.0' ]);
	ok($e && $e->{scope} == 24 && group_of($p) eq group_of($udp),
	   'over TCP: the same group as over UDP, ECS scope 24') or diag(ecs_text($e));

	# Scope 24 promises that the whole /24 gets this answer: /25 and /32 sources inside a /24
	# get the /24's group, and so does a query without ECS from inside it.
	my (@q, @want);
	for my $i (0 .. 199) {
		my $net = sprintf('10.%d.%d', 4 + ($i >> 8), $i & 255);
		push @q, wire_query($name, 'A', ecs => [ 1, 24, "$net.0" ]),
			wire_query($name, 'A', ecs => [ 1, 25, "$net.128" ]),
			wire_query($name, 'A', ecs => [ 1, 32, "$net.77" ]);
	}
	my $r = udp_burst(\@q, window => 32);
	my @diff;
	for my $i (0 .. 199) {
		my @g = map { group_of(parse($r->[ 3 * $i + $_ ])) } 0 .. 2;
		push @diff, "subnet $i: /24 $g[0], /25 $g[1], /32 $g[2]"
			unless $g[0] eq $g[1] && $g[0] eq $g[2] && $g[0] =~ /^(blue|green)$/;
	}
	is(scalar(@diff), 0, '200 subnets: /25 and /32 sources get the group of their /24')
		or diag(join("\n", first10(@diff)));

	# IPv6 subnets keep their group too (scope 56 for /56 sources).
	@q = map { wire_query($name, 'A', ecs => [ 2, 56, sprintf('2001:db8:%x:%x00::', $_ >> 8,
									$_ & 255) ]) } 0 .. 299;
	my ($r1, $r2) = (udp_burst(\@q), udp_burst([ reverse @q ]));
	my ($moved, $scope_bad, %g6) = (0, 0);
	for my $i (0 .. 299) {
		my ($p, $p2) = (parse($r1->[$i]), parse($r2->[ 299 - $i ]));
		my $g = group_of($p);
		$g6{$g}++;
		$moved++ if $g ne group_of($p2) || $g !~ /^(blue|green)$/;
		my $e = ecs_of($p);
		$scope_bad++ unless $e && $e->{family} == 2 && $e->{source} == 56 && $e->{scope} == 56;
	}
	is($moved, 0, '300 IPv6 /56 subnets keep their group over two rounds (' . tally_text(\%g6) . ')');
	is($scope_bad, 0, 'and their replies carry scope 56');
};

subtest 'malformed ECS options: FORMERR (RFC 7871 6)' => sub {
	my @bad = (
		[ 'unknown family 3', pack('nCC', 3, 24, 0) . pack('C3', 10, 1, 2) ],
		[ 'IPv4 source prefix 33', pack('nCC', 1, 33, 0) . pack('C5', 10, 1, 2, 3, 4) ],
		[ 'IPv6 source prefix 129', pack('nCC', 2, 129, 0) . ("\x20" x 17) ],
		[ '/24 with 4 address octets', pack('nCC', 1, 24, 0) . pack('C4', 10, 1, 2, 0) ],
		[ '/24 with 2 address octets', pack('nCC', 1, 24, 0) . pack('C2', 10, 1) ],
		[ '/20 with bits set past the prefix', pack('nCC', 1, 20, 0) . pack('C3', 10, 1, 255) ],
		[ 'shorter than its fixed fields', pack('nC', 1, 24) ],
	);
	for my $c (@bad) {
		my $p = ask(fqdn('sticky'), 'A', ecs_raw => $c->[1]);
		is($p ? $p->header->rcode : 'no reply', 'FORMERR', "$c->[0]: FORMERR")
			or diag($p ? $p->string : '');
	}
	my $p = ask(fqdn('sticky'), 'A', ecs_raw => pack('nCC', 1, 20, 0) . pack('C3', 10, 1, 240));
	like(group_of($p), qr/^(blue|green)$/, 'a /20 with the last 4 bits clear is answered');
};

# Whether this host lets us send from 127.0.x.y (all of 127/8 is loopback on Linux).
sub can_bind
{
	my ($addr) = @_;
	return IO::Socket::IP->new(LocalHost => $addr, Proto => 'udp') ? 1 : 0;
}

subtest 'sticky without ECS: the source address /24 decides' => sub {
	my $name = fqdn('sticky');
	my $c = tally($name, 20);
	is(scalar(keys %$c), 1,
	   '20 queries from 127.0.0.1: one group every time (' . tally_text($c) . ')');
	my $tcp = tally($name, 5, tcp => 1);
	is(tally_text($tcp), tally_text({ (keys %$c)[0] => 5 }), 'and the same group over TCP');
	my $p = ask($name, 'A');
	is(ecs_text(ecs_of($p)), 'no ECS option', 'a query without ECS gets no ECS option back');
	$p = ask($name, 'A', edns => 1);
	is(ecs_text(ecs_of($p)), 'no ECS option', 'nor does one with a bare OPT');

	SKIP: {
		skip('cannot send from 127.0.1.1 here', 2) unless can_bind('127.0.1.1');
		my (@bad, %g);
		for my $x (0 .. 63) {
			my @got;
			for my $src ("127.0.$x.1", "127.0.$x.200") {
				push @got, map { group_of(ask($name, 'A', local => $src)) } 1 .. 2;
			}
			my $ecs = group_of(ask($name, 'A', ecs => [ 1, 24, "127.0.$x.0" ]));
			push @bad, "127.0.$x.0/24: .1 .1 .200 .200 -> @got; ECS 127.0.$x.0/24 -> $ecs"
				unless $got[0] =~ /^(blue|green)$/ && !grep { $_ ne $got[0] } @got, $ecs;
			$g{ $got[0] }++;
		}
		is(scalar(@bad), 0, '64 source /24s (127.0.x.1 and .200, twice each): one group per '
		   . '/24, the same as ECS with that /24 (' . tally_text(\%g) . ')')
			or diag(join("\n", first10(@bad)));
		ok(keys(%g) == 2, 'both groups occur among the 64 source subnets');
	}
};

# ---------------------------------------------------------------------------------------------
subtest 'failover: the first group with weight, in order' => sub {
	my $name = fqdn('fo');
	ctl_ok('pool set fo (failover, east west south at weight 1)', qw(pool set), $name,
	       qw(--policy failover), groups('east', 'west', 'south'),
	       qw(--weight east=1 --weight west=1 --weight south=1)) or return;
	is(tally_text(tally($name, 10)), 'east: 10', 'all at weight 1: east (the first), 10 of 10');
	ctl_ok('weight fo east=0', 'weight', $name, 'east=0') or return;
	is(tally_text(tally($name, 10)), 'west: 10', 'east at 0: west');
	answers_list(ask($name, 'A', tcp => 1), 'west', 30, 'west over TCP, all its targets, TTL 30');
	ctl_ok('weight fo west=0', 'weight', $name, 'west=0') or return;
	is(tally_text(tally($name, 10)), 'south: 10', 'east and west at 0: south');
	ctl_ok('weight fo south=0', 'weight', $name, 'south=0') or return;
	is(tally_text(tally($name, 10)), 'east: 10', 'all at 0: east (all groups equal, first wins)');
	ctl_ok('weight fo west=5', 'weight', $name, 'west=5') or return;
	is(tally_text(tally($name, 10)), 'west: 10', 'west back at 5: west');
	ctl_ok('weight fo east=1 south=100', 'weight', $name, 'east=1', 'south=100') or return;
	is(tally_text(tally($name, 10)), 'east: 10', 'east back at 1: east, whatever the others weigh');
};

subtest 'ECS scope 0 for everything but sticky pools' => sub {
	for my $c ([ 'svc', 'a weighted pool' ], [ 'fo', 'a failover pool' ],
		   [ 'green.svc', 'a preview name' ], [ 'www', 'a static A RRset' ]) {
		my $p = ask(fqdn($c->[0]), 'A', ecs => [ 1, 24, '10.9.8.0' ]);
		my $e = ecs_of($p);
		ok($p && $p->header->rcode eq 'NOERROR' && $p->answer && $e && $e->{scope} == 0
		   && $e->{family} == 1 && $e->{source} == 24 && $e->{addr} eq pack('C3', 10, 9, 8),
		   "$c->[1]: answered, ECS echoed with scope 0") or diag(ecs_text($e));
	}
	my $p = ask(fqdn('svc'), 'A', ecs => [ 2, 56, '2001:db8:1:200::' ]);
	my $e = ecs_of($p);
	ok($e && $e->{family} == 2 && $e->{source} == 56 && $e->{scope} == 0,
	   'a weighted pool, IPv6 ECS: scope 0') or diag(ecs_text($e));
};

# ---------------------------------------------------------------------------------------------
# A load generator: a child process that queries NAME continuously over UDP (a window of 16 in
# flight) with one TCP query every 100, until the parent closes the pipe (stop=eof) or after
# $max queries (stop=max, a safety bound), then writes its counts to $file; `changes` counts the
# replies whose group differs from the reply before (flips the load saw).
sub start_load
{
	my ($name, $file, $max) = @_;
	pipe(my $rd, my $wr) or die "pipe: $!";
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		# Never run the parent's END blocks or handlers here: they would stop its daemon.
		$SIG{$_} = 'DEFAULT' for qw(INT TERM);
		close $wr;
		my %n = map { $_ => 0 } qw(total udp tcp blue green mixed failed changes);
		$n{stop} = 'max';
		my ($last, @fail) = ('');
		eval {
			my $q = wire_query($name, 'A');
			my $sel = IO::Select->new($rd);
			while ($n{total} < $max) {
				my @raw = @{ udp_burst([ ($q) x 99 ], window => 16) };
				$n{udp} += @raw;
				substr($q, 0, 2, pack('n', int(rand(65536))));
				push @raw, (tcp_exchange($t->host, $t->port, [$q]))[0];
				$n{tcp}++;
				for my $raw (@raw) {
					my $g = group_of(parse($raw));
					$n{total}++;
					if ($g eq 'blue' || $g eq 'green' || $g eq 'mixed') {
						$n{$g}++;
						$n{changes}++ if $last ne '' && $g ne $last;
						$last = $g;
					} else {
						$n{failed}++;
						push @fail, $g if @fail < 10;
					}
				}
				if ($sel->can_read(0)) {
					$n{stop} = 'eof';
					last;
				}
			}
			1;
		} or push @fail, "died: $@";
		if (open(my $fh, '>', $file)) {
			print $fh join(' ', map { "$_=$n{$_}" } sort keys %n), "\n", map { "$_\n" } @fail;
			close $fh;
		}
		POSIX::_exit(0);
	}
	close $rd;
	$KIDS{$pid} = 1;
	return ($pid, $wr);
}

subtest 'weight flips under a steady query load: never a mixed answer, no failed query' => sub {
	my $name = fqdn('flip');
	ctl_ok('pool set flip', qw(pool set), $name, groups('blue', 'green')) or return;
	my $file = $t->dir . '/load.out';
	my ($pid, $wr) = start_load($name, $file, 2_000_000);
	my ($flips, $ctl_fail, @errs) = (0, 0);
	for my $i (1 .. 300) {
		my @w = $i % 2 ? ('blue=0', 'green=100') : ('blue=100', 'green=0');
		my $r = $t->ctl('--actor', 'pools_answers.t', 'weight', $name, @w);
		$flips++;
		if ($r->{exit} != 0) {
			$ctl_fail++;
			push @errs, show($r) if @errs < 3;
		}
	}
	close $wr; # the load generator stops at EOF
	my $st = CutoverTest::reap($pid, 60 * timeout_scale());
	if (!defined $st) {
		kill('KILL', $pid);
		waitpid($pid, 0);
	}
	delete $KIDS{$pid};
	is($ctl_fail, 0, "$flips weight flips, every cutoverctl run succeeded")
		or diag(join("\n", @errs));
	my ($counts, @fail) = split /\n/, slurp($file);
	ok(defined $counts && length $counts, 'the load generator reported') or return;
	my %n = map { split /=/ } split ' ', $counts;
	note("under $flips flips: $counts");
	cmp_ok($n{total}, '>=', 500, "$n{total} queries during the flips ($n{udp} UDP, $n{tcp} TCP)");
	is($n{stop}, 'eof', 'the load lasted until the last flip (it did not hit its bound)');
	is($n{mixed}, 0, "no answer mixed blue and green (blue $n{blue}, green $n{green})");
	is($n{failed}, 0, 'every query was answered NOERROR with addresses') or diag(join("\n", @fail));
	ok($n{blue} > 0 && $n{green} > 0 && $n{changes} > 0,
	   "both groups were answered during the flips ($n{changes} changes of group seen)");
	ok($t->running, 'the daemon is still running');
};

# ---------------------------------------------------------------------------------------------
subtest 'preview names' => sub {
	ctl_ok('cutover svc blue', 'cutover', fqdn('svc'), 'blue') or return;
	answers_list(ask(fqdn('green.svc'), 'A'), 'green', 17, 'green.svc at blue=100: green, TTL 17, AA');
	answers_list(ask(fqdn('blue.svc'), 'A', tcp => 1), 'blue', 17, 'blue.svc: blue (TCP)');
	ctl_ok('cutover svc green', 'cutover', fqdn('svc'), 'green') or return;
	answers_list(ask(fqdn('blue.svc'), 'A'), 'blue', 17, 'blue.svc at green=100: still blue');
	is(tally_text(tally(fqdn('green.svc'), 10)), 'green: 10', 'green.svc: green, 10 of 10');
	answers_list(ask('GREEN.Svc.app.EXAMPLE', 'A'), 'green', 17,
		     'GREEN.Svc.app.EXAMPLE: green (case-insensitive)');
	nxdomain_ok(ask(fqdn('red.svc'), 'A'), 'red.svc (no such group): NXDOMAIN');
	nodata_ok(ask(fqdn('green.svc'), 'AAAA'), 'green.svc AAAA (an A pool): NODATA');
	nxdomain_ok(ask(fqdn('x.green.svc'), 'A'), 'below a preview name: NXDOMAIN');

	ctl_ok('pool set pv --preview-prefix pre-', qw(pool set), fqdn('pv'), qw(--preview-prefix pre-),
	       groups('blue', 'green')) or return;
	answers_list(ask(fqdn('pre-green.pv'), 'A'), 'green', 30, 'pre-green.pv: green');
	answers_list(ask(fqdn('pre-blue.pv'), 'A'), 'blue', 30, 'pre-blue.pv: blue');
	nxdomain_ok(ask(fqdn('green.pv'), 'A'), 'with a prefix, green.pv is NXDOMAIN');

	ctl_ok('pool set np --no-preview', qw(pool set), fqdn('np'), qw(--no-preview),
	       groups('blue', 'green')) or return;
	answers_list(ask(fqdn('np'), 'A'), 'blue', 30, 'np itself answers');
	nxdomain_ok(ask(fqdn('green.np'), 'A'), '--no-preview: green.np is NXDOMAIN');
	nxdomain_ok(ask(fqdn('blue.np'), 'A'), '--no-preview: blue.np is NXDOMAIN');

	# Turning previews off and on again on an existing pool is seen by the next query.
	ctl_ok('pool set svc --no-preview', qw(pool set), fqdn('svc'), qw(--ttl 17 --no-preview),
	       groups('blue', 'green')) or return;
	nxdomain_ok(ask(fqdn('green.svc'), 'A'), 'svc re-set with --no-preview: green.svc NXDOMAIN');
	ctl_ok('pool set svc (previews back)', qw(pool set), fqdn('svc'), qw(--ttl 17),
	       groups('blue', 'green')) or return;
	answers_list(ask(fqdn('green.svc'), 'A'), 'green', 17, 'previews back: green.svc answers green');
};

# ---------------------------------------------------------------------------------------------
subtest 'negative answers at a pool name' => sub {
	nodata_ok(ask(fqdn('svc'), 'AAAA'), 'AAAA at an A-only pool: NODATA with the SOA');
	nodata_ok(ask(fqdn('svc'), 'AAAA', tcp => 1), 'the same over TCP');
	nodata_ok(ask(fqdn('svc'), 'TXT'), 'TXT at a pool name without static records: NODATA');
	nxdomain_ok(ask(fqdn('nope.svc'), 'A'), 'a name below a pool: NXDOMAIN');
};

subtest 'an AAAA pool beside an A pool at one name' => sub {

	ctl_ok('pool set dual (A)', qw(pool set), fqdn('dual'), qw(--ttl 40), groups('blue', 'green'))
		or return;
	ctl_ok('pool set dual --type AAAA', qw(pool set), fqdn('dual'), qw(--type AAAA --ttl 41),
	       groups([ blue => 'blue6' ], [ green => 'green6' ])) or return;
	answers_list(ask(fqdn('dual'), 'A'), 'blue', 40, 'dual A: the A pool\'s blue, TTL 40');
	answers_list(ask(fqdn('dual'), 'AAAA'), 'blue6', 41, 'dual AAAA: the AAAA pool\'s blue, TTL 41',
		     'AAAA');
	answers_list(ask(fqdn('dual'), 'AAAA', tcp => 1), 'blue6', 41, 'dual AAAA over TCP', 'AAAA');
	answers_list(ask(fqdn('green.dual'), 'AAAA'), 'green6', 41, 'green.dual AAAA: green\'s IPv6 targets',
		     'AAAA');
	answers_list(ask(fqdn('green.dual'), 'A'), 'green', 40, 'green.dual A: green\'s IPv4 targets');
	nodata_ok(ask(fqdn('dual'), 'TXT'), 'TXT at dual: NODATA');
};

subtest 'a pool beside a static TXT at one name' => sub {

	# status.app.example holds a static TXT: an A pool there coexists with it.
	my $txt = $SETS->{"status.$APEX|TXT"} or return fail('zones/app.example.zone: no TXT at status');
	ok(!$SETS->{"status.$APEX|A"} && !$SETS->{"status.$APEX|CNAME"}, 'status has no static A or CNAME');
	ctl_ok('pool set status (beside its static TXT)', qw(pool set), fqdn('status'),
	       groups('green', 'blue'), '--no-preview') or return;
	answers_list(ask(fqdn('status'), 'A'), 'green', 30, 'status A: the pool');
	reply_is(ask(fqdn('status'), 'TXT'),
		 { rcode => 'NOERROR', aa => 1, answer => $txt, authority => [] },
		 'status TXT: the static record');
	nodata_ok(ask(fqdn('status'), 'AAAA'), 'status AAAA: NODATA');
	ctl_ok('pool delete status', qw(pool delete), fqdn('status')) or return;
	nodata_ok(ask(fqdn('status'), 'A'), 'after the delete, status A is NODATA (the TXT remains)');
	reply_is(ask(fqdn('status'), 'TXT'), { rcode => 'NOERROR', aa => 1, answer => $txt },
		 'and status TXT is still answered');
};

# ---------------------------------------------------------------------------------------------
subtest 'pool delete: the next query is NXDOMAIN' => sub {
	ctl_ok('pool set gone', qw(pool set), fqdn('gone'), groups('blue', 'green')) or return;
	answers_list(ask(fqdn('gone'), 'A'), 'blue', 30, 'gone answers blue');
	answers_list(ask(fqdn('green.gone'), 'A'), 'green', 30, 'green.gone answers green');
	ctl_ok('pool delete gone', qw(pool delete), fqdn('gone')) or return;
	nxdomain_ok(ask(fqdn('gone'), 'A'), 'gone A: NXDOMAIN at once');
	nxdomain_ok(ask(fqdn('gone'), 'A', tcp => 1), 'gone A over TCP: NXDOMAIN');
	nxdomain_ok(ask(fqdn('gone'), 'TXT'), 'gone TXT: NXDOMAIN');
	nxdomain_ok(ask(fqdn('green.gone'), 'A'), 'green.gone: NXDOMAIN');
	like(group_of(ask(fqdn('svc'), 'A')), qr/^(blue|green)$/, 'the other pools still answer (svc)');
};

# ---------------------------------------------------------------------------------------------
subtest 'a pool answer too big for UDP: TC, and the whole answer over TCP or EDNS' => sub {
	my @addrs = map { "2001:db8:40::$_" } 1 .. 40;
	$T{big} = \@addrs;
	$GROUP_OF{ canon($_) } = 'big' for @addrs;
	ctl_ok('pool set big (AAAA, 40 targets)', qw(pool set), fqdn('big'), qw(--type AAAA),
	       '--group', 'blue=' . join(',', @addrs)) or return;
	my $p = ask(fqdn('big'), 'AAAA');
	ok($p && $p->header->tc && !$p->answer,
	   'UDP without EDNS (512 bytes): TC set and no partial RRset')
		or diag($p ? $p->string : 'no reply');
	answers_list(ask(fqdn('big'), 'AAAA', tcp => 1), 'big', 30, 'TCP: all 40 addresses', 'AAAA');
	$p = ask(fqdn('big'), 'AAAA', edns => 1);
	ok($p && !$p->header->tc, 'EDNS 1232: no TC');
	answers_list($p, 'big', 30, 'EDNS 1232: all 40 addresses', 'AAAA');
};

# ---------------------------------------------------------------------------------------------
subtest 'a zone re-import keeps the pools; CNAMEs in the zone lead into them' => sub {
	my $file = write_file($t->dir . '/app.example.zone',
			      slurp(zone_path($APEX)) . "alias\tIN\tCNAME\tsvc\nalias2\tIN\tCNAME\tsticky\n");
	ctl_ok('import app.example with two CNAMEs added', qw(zone import), $file) or return;
	my $p = ask(fqdn('svc'), 'A');
	like(group_of($p), qr/^(blue|green)$/, 'svc still answers after the re-import');
	$p = ask(fqdn('alias'), 'A');
	my @cname = $p ? grep { $_->type eq 'CNAME' } $p->answer : ();
	ok(@cname == 1 && lc($cname[0]->cname) eq fqdn('svc') && group_of($p) =~ /^(blue|green)$/
	   && !grep({ $_->type eq 'A' && $_->ttl != 17 } $p->answer),
	   'alias A: the CNAME, then svc\'s pool answer (one group, TTL 17)')
		or diag($p ? $p->string : 'no reply');
	$p = ask(fqdn('alias'), 'AAAA');
	ok($p && $p->header->rcode eq 'NOERROR' && (grep { $_->type eq 'CNAME' } $p->answer)
	   && !grep({ $_->type eq 'AAAA' } $p->answer) && grep({ $_->type eq 'SOA' } $p->authority),
	   'alias AAAA: the CNAME, then NODATA at the A-only pool')
		or diag($p ? $p->string : 'no reply');
	my (@diff, $scope_bad);
	for my $i (0 .. 49) {
		my $ecs = [ 1, 24, sprintf('10.200.%d.0', $i) ];
		my $via = ask(fqdn('alias2'), 'A', ecs => $ecs);
		my $direct = ask(fqdn('sticky'), 'A', ecs => $ecs);
		push @diff, "10.200.$i.0/24: via alias2 " . group_of($via) . ', direct ' . group_of($direct)
			unless group_of($via) eq group_of($direct) && group_of($via) =~ /^(blue|green)$/;
		my $e = ecs_of($via);
		$scope_bad++ unless $e && $e->{scope} == 24;
	}
	is(scalar(@diff), 0, '50 ECS subnets: a CNAME to the sticky pool answers each one\'s group')
		or diag(join("\n", first10(@diff)));
	is($scope_bad // 0, 0, 'and the reply\'s ECS scope is 24');
	ctl_ok('import the original zone back', qw(zone import), zone_path($APEX)) or return;
	nxdomain_ok(ask(fqdn('alias'), 'A'), 'alias is gone: NXDOMAIN');
	like(group_of(ask(fqdn('svc'), 'A')), qr/^(blue|green)$/, 'svc still answers');
};

# ---------------------------------------------------------------------------------------------
# A pool file (README "The pool file") with an A pool and its AAAA twin.
sub pool_file
{
	my ($blue, $green) = @_;
	my $name = fqdn('applied') . '.';
	return join('', map { "$_\n" }
		"pool $name A", '    ttl 25', "    group blue  weight $blue  @{ $T{blue} }",
		"    group green weight $green  @{ $T{green} }",
		"pool $name AAAA", '    ttl 26', "    group blue  weight $blue  @{ $T{blue6} }",
		"    group green weight $green  @{ $T{green6} }");
}

subtest 'apply: the pools of a file answer, and a re-apply is answered by the next query' => sub {
	my $file = write_file($t->dir . '/applied.pools', pool_file(100, 0));
	ctl_ok('apply a file with an A pool and its AAAA twin', 'apply', $file) or return;
	answers_list(ask(fqdn('applied'), 'A'), 'blue', 25, 'applied A: blue, TTL 25');
	answers_list(ask(fqdn('applied'), 'AAAA'), 'blue6', 26, 'applied AAAA: blue, TTL 26', 'AAAA');
	answers_list(ask(fqdn('green.applied'), 'AAAA'), 'green6', 26, 'green.applied AAAA: green',
		     'AAAA');
	write_file($file, pool_file(0, 100));
	ctl_ok('apply the file with green at 100', 'apply', $file) or return;
	answers_list(ask(fqdn('applied'), 'A'), 'green', 25, 'the next A query: green');
	answers_list(ask(fqdn('applied'), 'AAAA', tcp => 1), 'green6', 26,
		     'the next AAAA query (TCP): green', 'AAAA');
	ctl_ok('apply it again (no change)', 'apply', $file);
	answers_list(ask(fqdn('applied'), 'A'), 'green', 25, 'still green');

	# The example file that `make run` applies: every pool in it answers.
	my $example = zone_path($APEX);
	$example =~ s/\.zone$/.pools/;
	return unless -e $example;
	ctl_ok("apply $example", 'apply', $example) or return;
	my @pools = slurp($example) =~ /^\s*pool\s+(\S+)(?:[ \t]+(A|AAAA)\b)?/mg;
	ok(@pools >= 2, 'the example names pools') or return;
	while (my ($name, $type) = splice(@pools, 0, 2)) {
		$type //= 'A';
		my $p = ask($name, $type);
		ok($p && $p->header->rcode eq 'NOERROR' && $p->header->aa && addrs($p, $type),
		   "$name $type: answered with addresses") or diag($p ? $p->string : 'no reply');
	}
};

ok($t->running, 'the daemon is still running');
is($t->stop, 0, 'cutoverd exits 0 on SIGTERM') or diag($t->stderr_text);

done_testing();
