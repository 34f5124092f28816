#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverctl's pool commands, CLI and database state only (pools_answers.t checks what cutoverd
# answers): every rejected input leaves the database untouched; create, replace, weight,
# cutover, rollback, delete; history and --limit; --json documents; apply -> export round trips,
# --prune, --dry-run, pool file errors as FILE:LINE; zone re-import keeps pools.
use strict;
use warnings;
no warnings 'qw'; # target lists are written GROUP=ADDR,ADDR inside qw()

use Test::More;

use CutoverCli qw(cli_fixture show ctl ctl_ok json_of state rejected pool_json weights serial
		  history_json);
use CutoverTest qw(zone_path slurp);

my $t = cli_fixture(CutoverTest->new);
my $dir = $t->dir;

# A file in the test's directory.
sub write_file
{
	my ($name, $text) = @_;
	my $path = "$dir/$name";
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	return $path;
}

my $ZONE = write_file('pools.test.zone', <<'EOF');
$ORIGIN pools.test.
$TTL 300
@	SOA	ns1 hostmaster 100 3600 600 86400 60
	NS	ns1
ns1	A	192.0.2.1
static	A	192.0.2.2
static6	AAAA	2001:db8::2
alias	CNAME	static
sub	NS	ns.sub
ns.sub	A	192.0.2.3
blue.taken	TXT	"a record at a would-be preview name"
EOF

for my $z ($ZONE, zone_path('app.example')) {
	my $r = $t->ctl('zone', 'import', $z);
	is($r->{exit}, 0, "import $z") or BAIL_OUT(show($r));
}

my @POOL_KEYS = qw(all_down answers check groups name policy preview preview_prefix ttl type zone);
# status --json adds each pool's health (health_cli.t) and its shift (shift.t)
my @STATUS_KEYS = sort(@POOL_KEYS, 'answering', 'shift');
my @GROUP_KEYS = qw(health healthy name preview_name share targets weight);
my @ENTRY_KEYS = qw(action actor after before name seq summary time time_ms type zone);

# ---------------------------------------------------------------------------------------------
subtest '--help of every pool command' => sub {
	my $r = $t->ctl({ nodb => 1 }, '--help');
	for my $cmd ('pool set', 'weight', 'cutover', 'rollback', 'status', 'history', 'apply',
		     'export-pools', '--actor') {
		like($r->{out}, qr/\Q$cmd\E/, "cutoverctl --help mentions $cmd");
	}
	for my $args ([qw(pool --help)], [qw(pool set --help)], [qw(pool show --help)],
		      [qw(pool list --help)], [qw(pool delete --help)], [qw(weight --help)],
		      [qw(cutover --help)], [qw(rollback --help)], [qw(status --help)],
		      [qw(history --help)], [qw(apply --help)], [qw(export-pools --help)]) {
		$r = $t->ctl({ nodb => 1 }, @$args);
		is($r->{exit}, 0, "@$args: exit 0") or diag(show($r));
		like($r->{out}, qr/^Usage: cutoverctl/, "@$args: usage on stdout");
		like($r->{out}, qr/Examples?:\n  cutoverctl /, "@$args: with an example");
	}
	$r = $t->ctl({ nodb => 1 }, qw(weight --help));
	like($r->{out}, qr/every\s+weight is 0.*equally/s, 'weight --help explains all-zero weights');
	$r = $t->ctl({ nodb => 1 }, qw(apply --help));
	like($r->{out}, qr/group GROUP weight W/, 'apply --help describes the pool file');
	for my $args ([qw(pool)], [qw(pool frobnicate)], [qw(weight)], [qw(cutover x.pools.test)],
		      [qw(rollback)], [qw(apply)], [qw(status a b)], [qw(history --limit)],
		      [qw(pool show)], [qw(export-pools a b)]) {
		$r = $t->ctl(@$args);
		is($r->{exit}, 2, "usage error '@$args': exit 2") or diag(show($r));
		like($r->{err}, qr/cutoverctl: .+\n/, "usage error '@$args': says why");
	}
	$r = $t->ctl({ db => "$dir/no-such-db" }, qw(status));
	is($r->{exit}, 1, 'a missing database: exit 1') or diag(show($r));
	ok(!-e "$dir/no-such-db", 'and it is not created');
};

# ---------------------------------------------------------------------------------------------
subtest 'pool set creates a pool with the documented defaults' => sub {
	my $s = serial();
	my $r = ctl_ok('pool set api', qw(pool set api.pools.test --group blue=192.0.2.10,192.0.2.11
					   --group green=198.51.100.10));
	like($r->{out}, qr/^api\.pools\.test\. A: created: - -> blue=100 green=0; blue \+192\.0\.2\.10 \+192\.0\.2\.11; green \+198\.51\.100\.10$/m,
	     'reports the creation');
	is(serial(), $s + 1, 'the zone serial went up by one');
	my $p = pool_json('api.pools.test');
	ok($p, 'status --json parses') or return;
	is_deeply([ sort keys %$p ], \@STATUS_KEYS, 'a pool object has the documented keys');
	is_deeply([ sort keys %{ $p->{groups}[0] } ], \@GROUP_KEYS,
		  'a group object has the documented keys');
	is($p->{name}, 'api.pools.test.', 'name');
	is($p->{zone}, 'pools.test.', 'zone');
	is($p->{type}, 'A', 'type A by default');
	is($p->{ttl}, 30, 'TTL 30 by default');
	is($p->{policy}, 'weighted', 'policy weighted by default');
	is($p->{answers}, 0, 'all addresses by default (answers 0)');
	ok($p->{preview} && $p->{preview_prefix} eq '', 'previews on, no prefix');
	is(weights('api.pools.test'), 'blue=100 green=0', 'first group 100, the others 0');
	is($p->{groups}[0]{share}, 100, 'blue: 100 % share');
	is($p->{groups}[1]{share}, 0, 'green: 0 % share');
	is($p->{groups}[1]{preview_name}, 'green.api.pools.test.', 'preview name of green');
	is_deeply($p->{groups}[0]{targets}, [ '192.0.2.10', '192.0.2.11' ], 'targets in order');

	$r = ctl_ok('pool set api AAAA with options',
		    qw(pool set API.Pools.Test. --type aaaa --ttl 60 --policy sticky --answers 1
		       --preview-prefix pv- --group blue=2001:db8::10 --group green=2001:db8::20
		       --group spare= --weight green=7));
	$p = pool_json('api.pools.test', 'AAAA');
	ok($p->{ttl} == 60 && $p->{policy} eq 'sticky' && $p->{answers} == 1 &&
	   $p->{preview_prefix} eq 'pv-', 'the options are stored');
	is(weights('api.pools.test', 'AAAA'), 'blue=100 green=7 spare=0', '--weight overrides');
	is_deeply($p->{groups}[2]{targets}, [], "'--group spare=' makes a group without targets");
	is($p->{groups}[1]{preview_name}, 'pv-green.api.pools.test.', 'the prefix is in the name');
	is($p->{groups}[0]{targets}[0], '2001:db8::10', 'IPv6 targets');

	$r = ctl_ok('pool set np --no-preview', qw(pool set np.pools.test --no-preview
					       --group blue=192.0.2.30));
	$p = pool_json('np.pools.test');
	ok(!$p->{preview} && !defined $p->{groups}[0]{preview_name}, '--no-preview: no preview names');
	ctl_ok('a pool beside static AAAA records', qw(pool set static6.pools.test
						   --group blue=192.0.2.40));
};

# ---------------------------------------------------------------------------------------------
subtest 'every rejected pool set leaves the database untouched' => sub {
	my @g = qw(--group blue=192.0.2.50);
	rejected('--type MX', [ qw(pool set x.pools.test --type MX), @g ], 2, qr/--type 'MX'/);
	rejected('--ttl -1', [ qw(pool set x.pools.test --ttl -1), @g ], 2, qr/--ttl '-1'/);
	rejected('--ttl abc', [ qw(pool set x.pools.test --ttl abc), @g ], 2, qr/--ttl 'abc'/);
	rejected('--ttl 2^31', [ qw(pool set x.pools.test --ttl 2147483648), @g ], 2,
		 qr/--ttl '2147483648'/);
	rejected('--policy random', [ qw(pool set x.pools.test --policy random), @g ], 2,
		 qr/--policy 'random'/);
	rejected('--answers -1', [ qw(pool set x.pools.test --answers -1), @g ], 2,
		 qr/--answers '-1'/);
	rejected('--answers 70000', [ qw(pool set x.pools.test --answers 70000), @g ], 2,
		 qr/--answers '70000'/);
	rejected('a bad IPv4 address', [ qw(pool set x.pools.test --group blue=192.0.2.300) ], 2,
		 qr/'192\.0\.2\.300' is not an IPv4 address/);
	rejected('an IPv6 address in an A pool', [ qw(pool set x.pools.test --group blue=2001:db8::1) ],
		 2, qr/'2001:db8::1' is an IPv6 address; an A pool/);
	rejected('an IPv4 address in an AAAA pool',
		 [ qw(pool set x.pools.test --type AAAA --group blue=192.0.2.1) ], 2,
		 qr/'192\.0\.2\.1' is an IPv4 address; an AAAA pool/);
	rejected('a hostname as target', [ qw(pool set x.pools.test --group blue=www.example.com) ],
		 2, qr/'www\.example\.com' is not an IPv4 address/);
	rejected('no --group', [ qw(pool set x.pools.test --ttl 30) ], 2, qr/missing --group/);
	rejected('the same group twice',
		 [ qw(pool set x.pools.test --group blue=192.0.2.1 --group blue=192.0.2.2) ], 2,
		 qr/group 'blue' is given twice/);
	rejected('the same group twice, other case',
		 [ qw(pool set x.pools.test --group blue=192.0.2.1 --group BLUE=192.0.2.2) ], 2,
		 qr/group 'BLUE' is given twice/);
	rejected('--group without =', [ qw(pool set x.pools.test --group blue) ], 2,
		 qr/--group blue: write GROUP=ADDR/);
	rejected('an empty address', [ qw(pool set x.pools.test --group blue=192.0.2.1,,192.0.2.2) ],
		 2, qr/--group blue=192\.0\.2\.1,,192\.0\.2\.2: an address is empty/);
	rejected('a trailing comma', [ qw(pool set x.pools.test --group blue=192.0.2.1,) ], 2,
		 qr/an address is empty/);
	rejected('an address twice', [ qw(pool set x.pools.test --group blue=192.0.2.1,192.0.2.1) ],
		 2, qr/192\.0\.2\.1 is listed twice/);
	rejected('a bad group name', [ qw(pool set x.pools.test --group b.lue=192.0.2.1) ], 2,
		 qr/group name 'b\.lue'/);
	rejected('17 groups', [ qw(pool set x.pools.test), map { ('--group', "g$_=192.0.2.$_") } 1 .. 17 ],
		 2, qr/at most 16 groups/);
	rejected('65 targets', [ qw(pool set x.pools.test --group),
				 'blue=' . join(',', map { "10.0.0.$_" } 1 .. 65) ], 2,
		 qr/at most 64 addresses/);
	rejected('--weight of a group not given', [ qw(pool set x.pools.test --weight green=5), @g ],
		 2, qr/--weight green=5: there is no --group green/);
	rejected('a negative weight', [ qw(pool set x.pools.test --weight blue=-5), @g ], 2,
		 qr/--weight blue=-5: the weight must be a whole number/);
	rejected('a weight that is not a number', [ qw(pool set x.pools.test --weight blue=ten), @g ],
		 2, qr/--weight blue=ten/);
	rejected('a weight above 1000000', [ qw(pool set x.pools.test --weight blue=1000001), @g ],
		 2, qr/--weight blue=1000001/);
	rejected('a bad preview prefix', [ qw(pool set x.pools.test --preview-prefix a.b), @g ], 2,
		 qr/--preview-prefix 'a\.b'/);
	rejected('--preview-prefix with --no-preview',
		 [ qw(pool set x.pools.test --preview-prefix p --no-preview), @g ], 2,
		 qr/exclude each other/);
	rejected('an invalid name', [ qw(pool set a..b.pools.test), @g ], 2,
		 qr/'a\.\.b\.pools\.test' is not a valid domain name/);
	rejected('an unknown option', [ qw(pool set x.pools.test --frobnicate), @g ], 2,
		 qr/--frobnicate/);
	rejected('an empty --actor', [ '--actor', '', qw(pool set x.pools.test), @g ], 2, qr/--actor ''/);
	rejected('a name outside every zone', [ qw(pool set api.nowhere.test), @g ], 1,
		 qr/api\.nowhere\.test\. is in no zone of this database/);
	rejected('a name with static A records', [ qw(pool set static.pools.test), @g ], 1,
		 qr/static\.pools\.test\. has static A records/);
	rejected('a name with static AAAA records',
		 [ qw(pool set static6.pools.test --type AAAA --group blue=2001:db8::5) ], 1,
		 qr/static6\.pools\.test\. has static AAAA records/);
	rejected('a CNAME at the name', [ qw(pool set alias.pools.test), @g ], 1,
		 qr/alias\.pools\.test\. has a CNAME/);
	rejected('the name of a delegation', [ qw(pool set sub.pools.test), @g ], 1,
		 qr/at or below the delegation sub\.pools\.test\./);
	rejected('a name below a delegation', [ qw(pool set www.sub.pools.test), @g ], 1,
		 qr/www\.sub\.pools\.test\. is at or below the delegation sub\.pools\.test\./);
	rejected('a preview name that would shadow a record', [ qw(pool set taken.pools.test), @g ],
		 1, qr/preview name blue\.taken\.pools\.test\. would shadow existing records/);
	rejected('a name that is another pool\'s preview name',
		 [ qw(pool set green.api.pools.test), @g ], 1,
		 qr/green\.api\.pools\.test\. is a preview name of the A pool at api\.pools\.test\./);
	rejected('a wildcard name', [ qw(pool set *.pools.test), @g ], 1, qr/wildcard/);
	ctl_ok('previews off make taken usable', qw(pool set taken.pools.test --no-preview), @g);
};

# ---------------------------------------------------------------------------------------------
subtest 'pool set replaces: weights kept by group name, other settings as given' => sub {
	ctl_ok('weights to 60/40', qw(weight api.pools.test blue=60 green=40 --type A));
	my $s = serial();
	my $h = scalar @{ history_json() };
	my $r = ctl_ok('same pool again', qw(pool set api.pools.test --group blue=192.0.2.10,192.0.2.11
					  --group green=198.51.100.10));
	like($r->{out}, qr/^api\.pools\.test\. A: unchanged \(blue=60 green=40\)$/m,
	     'an identical pool is reported unchanged');
	is(serial(), $s, 'no serial bump');
	is(scalar @{ history_json() }, $h, 'no history entry');

	$r = ctl_ok('replace with new targets and a new group',
		    qw(pool set api.pools.test --ttl 45 --group blue=192.0.2.10
		       --group green=198.51.100.10,198.51.100.11 --group canary=192.0.2.99));
	like($r->{out}, qr/^api\.pools\.test\. A: replaced: blue=60 green=40 -> blue=60 green=40 canary=0; ttl 30 -> 45; blue -192\.0\.2\.11; green \+198\.51\.100\.11; \+group canary \+192\.0\.2\.99$/m,
	     'the report says what changed');
	is(weights('api.pools.test'), 'blue=60 green=40 canary=0',
	   'groups keeping their name keep their weight; a new group gets 0');
	is(serial(), $s + 1, 'one serial bump');
	ctl_ok('settings left out go back to their defaults',
	       qw(pool set api.pools.test --group blue=192.0.2.10,192.0.2.11
		  --group green=198.51.100.10 --weight blue=100 --weight green=0));
	my $p = pool_json('api.pools.test');
	ok($p->{ttl} == 30 && @{ $p->{groups} } == 2, 'TTL 30 again, canary gone');
	is(weights('api.pools.test'), 'blue=100 green=0', '--weight on a replace');
};

# ---------------------------------------------------------------------------------------------
subtest 'weight: set, keep, reject; all-zero weights' => sub {
	my $r = ctl_ok('weight both types', qw(weight api.pools.test blue=90 green=10));
	like($r->{out}, qr/^api\.pools\.test\. A: weight: blue=100 green=0 -> blue=90 green=10$/m,
	     'reports the A pool');
	like($r->{out}, qr/^api\.pools\.test\. AAAA: weight: blue=100 green=7 spare=0 -> blue=90 green=10 spare=0$/m,
	     'and the AAAA pool');
	is(weights('api.pools.test', 'AAAA'), 'blue=90 green=10 spare=0', 'groups not named keep theirs');
	ctl_ok('weight --type AAAA', qw(weight api.pools.test spare=5 --type AAAA));
	is(weights('api.pools.test'), 'blue=90 green=10', '--type AAAA leaves the A pool alone');

	rejected('an unknown group', [ qw(weight api.pools.test purple=5) ], 1,
		 qr/api\.pools\.test\. A has no group 'purple'; its groups: blue, green/);
	rejected('a group of the AAAA pool only', [ qw(weight api.pools.test spare=1) ], 1,
		 qr/api\.pools\.test\. A has no group 'spare'/);
	rejected('a negative weight', [ qw(weight api.pools.test blue=-1) ], 2,
		 qr/'blue=-1': the weight must be a whole number from 0 to 1000000/);
	rejected('a weight that is not a number', [ qw(weight api.pools.test blue=1.5) ], 2,
		 qr/'blue=1\.5'/);
	rejected('a weight above 1000000', [ qw(weight api.pools.test blue=1000001) ], 2,
		 qr/'blue=1000001'/);
	rejected('no weight', [ qw(weight api.pools.test blue=) ], 2, qr/'blue='/);
	rejected('not GROUP=W', [ qw(weight api.pools.test blue) ], 2, qr/'blue': write GROUP=WEIGHT/);
	rejected('a group twice', [ qw(weight api.pools.test blue=1 blue=2) ], 2,
		 qr/group 'blue' is given twice/);
	rejected('no weights', [ qw(weight api.pools.test) ], 2, qr/missing argument/);
	rejected('a name without pools', [ qw(weight static.pools.test blue=1) ], 1,
		 qr/static\.pools\.test\. has no A or AAAA pool/);
	rejected('a name outside every zone', [ qw(weight x.nowhere.test blue=1) ], 1,
		 qr/x\.nowhere\.test\. is in no zone/);
	rejected('--type MX', [ qw(weight api.pools.test blue=1 --type MX) ], 2, qr/--type 'MX'/);

	# All-zero: cutoverd then shares the answers equally among the groups with targets.
	$r = ctl_ok('all weights 0', qw(weight api.pools.test blue=0 green=0 --type A));
	like($r->{out}, qr/every weight is 0: cutoverd shares the answers equally/,
	     'the report says what all-zero means');
	my $p = pool_json('api.pools.test');
	is_deeply([ map { $_->{share} } @{ $p->{groups} } ], [ 50, 50 ],
		  'status: equal shares when every weight is 0');
	$r = ctl('status', 'api.pools.test', '--type', 'A');
	like($r->{out}, qr/every weight is 0: the groups with targets share the answers equally/,
	     'status says so too');
	$p = pool_json('api.pools.test', 'AAAA');
	ctl_ok('AAAA all zero', qw(weight api.pools.test blue=0 green=0 spare=0 --type AAAA));
	$p = pool_json('api.pools.test', 'AAAA');
	is_deeply([ map { $_->{share} } @{ $p->{groups} } ], [ 50, 50, 0 ],
		  'a group without targets gets no share, even then');
	ctl_ok('back to 90/10', qw(weight api.pools.test blue=90 green=10 spare=0 --type AAAA));
	ctl_ok('back to 90/10', qw(weight api.pools.test blue=90 green=10 --type A));
	$p = pool_json('api.pools.test');
	is_deeply([ map { $_->{share} } @{ $p->{groups} } ], [ 90, 10 ], 'shares 90/10');
};

# ---------------------------------------------------------------------------------------------
subtest 'cutover' => sub {
	my $r = ctl_ok('cutover to green', qw(cutover api.pools.test green));
	like($r->{out}, qr/^api\.pools\.test\. A: cutover: blue=90 green=10 -> blue=0 green=100$/m,
	     'reports the A pool');
	is(weights('api.pools.test'), 'blue=0 green=100', 'A: green 100, the others 0');
	is(weights('api.pools.test', 'AAAA'), 'blue=0 green=100 spare=0', 'AAAA too, in one step');
	rejected('an unknown group', [ qw(cutover api.pools.test purple) ], 1,
		 qr/has no group 'purple'; its groups: blue, green/);
	rejected('a group without targets', [ qw(cutover api.pools.test spare --type AAAA) ], 1,
		 qr/group 'spare' of api\.pools\.test\. AAAA has no targets/);
	rejected('a name without pools', [ qw(cutover nothing.pools.test green) ], 1,
		 qr/nothing\.pools\.test\. has no A or AAAA pool/);
	rejected('too many arguments', [ qw(cutover api.pools.test green blue) ], 2,
		 qr/unexpected argument 'blue'/);
	$r = ctl_ok('cutover to the group it is on', qw(cutover api.pools.test green --type A));
	like($r->{out}, qr/A: unchanged \(blue=0 green=100\)/, 'unchanged');
};

# ---------------------------------------------------------------------------------------------
subtest 'rollback' => sub {
	my $r = ctl_ok('roll back the cutover', qw(rollback api.pools.test));
	like($r->{out}, qr/^api\.pools\.test\. A: rolled back 'cutover' by tester at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: blue=0 green=100 -> blue=90 green=10$/m,
	     'reports what it undid');
	is(weights('api.pools.test'), 'blue=90 green=10', 'A: as before the cutover');
	is(weights('api.pools.test', 'AAAA'), 'blue=90 green=10 spare=0',
	   'AAAA too: one command changed both');
	my $h = history_json('api.pools.test', '--limit', 2);
	ok(@$h == 2 && !grep({ $_->{action} ne 'rollback' } @$h), 'recorded as two rollback entries');
	ctl_ok('roll back the rollback', qw(rollback api.pools.test));
	is(weights('api.pools.test'), 'blue=0 green=100', 'a second rollback redoes the cutover');
	is(weights('api.pools.test', 'AAAA'), 'blue=0 green=100 spare=0', 'for both types');

	ctl_ok('weight A only', qw(weight api.pools.test blue=50 green=50 --type A));
	ctl_ok('rollback without --type', qw(rollback api.pools.test));
	is(weights('api.pools.test'), 'blue=0 green=100', 'the last change (A) is undone');
	is(weights('api.pools.test', 'AAAA'), 'blue=0 green=100 spare=0', 'the AAAA pool is left');
	ctl_ok('rollback --type AAAA', qw(rollback api.pools.test --type AAAA));
	is(weights('api.pools.test', 'AAAA'), 'blue=90 green=10 spare=0',
	   '--type AAAA undoes the AAAA pool\'s own last change');

	# creation and deletion
	ctl_ok('create new', qw(pool set new.pools.test --group blue=192.0.2.60));
	$r = ctl_ok('roll back a creation', qw(rollback new.pools.test));
	like($r->{out}, qr/new\.pools\.test\. A: rolled back 'pool set' .*: blue=100 -> -$/m,
	     'reported as a deletion');
	$r = ctl(qw(pool show new.pools.test));
	is($r->{exit}, 1, 'rolling back the creation deleted the pool') or diag(show($r));
	ctl_ok('roll back the deletion', qw(rollback new.pools.test));
	is(weights('new.pools.test'), 'blue=100', 'and rolling that back brings it back');
	ctl_ok('delete it', qw(pool delete new.pools.test));
	ctl_ok('roll back a pool delete', qw(rollback new.pools.test));
	is(weights('new.pools.test'), 'blue=100', 'a deleted pool comes back');

	rejected('nothing to roll back', [ qw(rollback static.pools.test) ], 1,
		 qr/static\.pools\.test\.: no change of its A or AAAA pools in history, nothing to roll back/);
	rejected('nothing to roll back of that type', [ qw(rollback np.pools.test --type AAAA) ], 1,
		 qr/no change of its AAAA pool in history/);
	rejected('outside every zone', [ qw(rollback x.nowhere.test) ], 1, qr/x\.nowhere\.test\. is in no zone/);

	# a rollback that would clash with a record imported since is refused whole
	ctl_ok('pool at later', qw(pool set later.pools.test --group blue=192.0.2.70));
	ctl_ok('delete it', qw(pool delete later.pools.test));
	my $zone = slurp($ZONE) . "later\tA\t192.0.2.71\n";
	my $r2 = $t->ctl('zone', 'import', write_file('later.zone', $zone));
	is($r2->{exit}, 0, 'a static record now at later') or diag(show($r2));
	rejected('a rollback that would clash', [ qw(rollback later.pools.test) ], 1,
		 qr/later\.pools\.test\. has static A records/);
	$r2 = $t->ctl('zone', 'import', $ZONE);
	is($r2->{exit}, 0, 'the zone as it was') or diag(show($r2));
};

# ---------------------------------------------------------------------------------------------
subtest 'history: content, order, --limit, filters, actor, --json' => sub {
	my $r = ctl(qw(history api.pools.test));
	is($r->{exit}, 0, 'history NAME') or diag(show($r));
	my @lines = split /\n/, $r->{out};
	like($lines[0], qr/^TIME\s+ACTOR\s+POOL\s+ACTION\s+CHANGE/, 'a header');
	like($lines[1], qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  tester\s+api\.pools\.test\. AAAA\s+rollback\s+blue=0 green=100 spare=0 -> blue=90 green=10 spare=0$/,
	     'newest first: time, actor, pool, action, before -> after');
	ok(!grep({ !/api\.pools\.test\./ } @lines[ 1 .. $#lines ]), 'only the pools at NAME');
	like($r->{out}, qr/tester\s+api\.pools\.test\. A\s+cutover\s+blue=90 green=10 -> blue=0 green=100$/m,
	     'the cutover is there');
	like($r->{out}, qr/api\.pools\.test\. A\s+pool set\s+- -> blue=100 green=0; blue \+192\.0\.2\.10 \+192\.0\.2\.11; green \+198\.51\.100\.10$/m,
	     'the creation, with its targets');
	my $col = index($lines[0], 'ACTION');
	ok(!grep({ length($_) > $col && substr($_, $col - 2, 2) ne '  ' } @lines[ 1 .. $#lines ]),
	   'columns are aligned');

	$r = ctl(qw(history --limit 3));
	is(scalar(split /\n/, $r->{out}), 4, '--limit 3: header and three entries');
	my $all = history_json();
	my $three = history_json('--limit', 3);
	is_deeply($three, [ @$all[ 0 .. 2 ] ], '--limit 3 --json: the three newest');
	ok(@$all > 10, 'history holds every change (' . scalar(@$all) . ')');
	ok(!grep({ $all->[$_]{seq} <= $all->[ $_ + 1 ]{seq} } 0 .. $#$all - 1), 'newest first');
	is_deeply([ sort keys %{ $all->[0] } ], \@ENTRY_KEYS, 'an entry has the documented keys');
	my ($created) = grep { $_->{action} eq 'pool set' && !defined $_->{before} } @$all;
	ok($created && $created->{after}{name} && $created->{zone} eq 'pools.test.',
	   'a creation has before null and a pool after');
	like($all->[0]{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'time is ISO 8601 UTC');
	ok(abs($all->[0]{time_ms} / 1000 - time()) < 600, 'time_ms is now-ish');
	my $aaaa = history_json('api.pools.test', '--type', 'AAAA');
	ok(@$aaaa && !grep({ $_->{type} ne 'AAAA' || $_->{name} ne 'api.pools.test.' } @$aaaa),
	   'history NAME --type AAAA');

	# the actor: global --actor, the command's --actor, else $USER
	$t->ctl('--actor', 'alice', qw(weight api.pools.test blue=80 green=20 --type A));
	$t->ctl(qw(weight api.pools.test blue=70 green=30 --type A --actor bob));
	$t->ctl({ env => { USER => 'carol' } }, qw(weight api.pools.test blue=60 green=40 --type A));
	my $h = history_json('api.pools.test', '--limit', 3);
	is_deeply([ map { $_->{actor} } @$h ], [qw(carol bob alice)],
		  'actor: $USER, the command\'s --actor, the global --actor');
	is($h->[0]{summary}, 'blue=70 green=30 -> blue=60 green=40', 'summary');
	is($h->[0]{before}{groups}[0]{weight}, 70, 'before is the pool before');
	is($h->[0]{after}{groups}[0]{weight}, 60, 'after is the pool after');

	$r = ctl(qw(history nothing.pools.test));
	is($r->{exit}, 0, 'history of a name without changes: exit 0') or diag(show($r));
	like($r->{err}, qr/no changes recorded for nothing\.pools\.test/, 'says so');
	rejected('--limit 0', [ qw(history --limit 0) ], 2, qr/--limit '0'/);
	rejected('--limit x', [ qw(history --limit x) ], 2, qr/--limit 'x'/);
};

# ---------------------------------------------------------------------------------------------
subtest 'pool show, pool list, status' => sub {
	my $r = ctl(qw(pool show api.pools.test));
	is($r->{exit}, 0, 'pool show') or diag(show($r));
	like($r->{out}, qr/^pool api\.pools\.test\. A\n\tpolicy  weighted\n\tttl     30\n\tanswers all\n\tpreview-prefix ""\n\tgroup blue  weight 60  192\.0\.2\.10 192\.0\.2\.11\n\tgroup green weight 40  198\.51\.100\.10\n\npool api\.pools\.test\. AAAA\n/,
	     'prints the pools in the pool file format');
	my $file = write_file('show.pools', $r->{out});
	$r = ctl('apply', $file);
	like($r->{out}, qr/0 created, 0 updated, 2 unchanged, 0 deleted/,
	     'which apply reads back to the same pools') or diag(show($r));
	my $doc = json_of(ctl(qw(pool show api.pools.test --type AAAA --json)));
	ok($doc && @{ $doc->{pools} } == 1 && $doc->{pools}[0]{type} eq 'AAAA', 'pool show --type --json');
	rejected('pool show of a name without pools', [ qw(pool show static.pools.test) ], 1,
		 qr/static\.pools\.test\. has no A or AAAA pool/);

	$r = ctl(qw(pool list pools.test));
	is($r->{exit}, 0, 'pool list ZONE') or diag(show($r));
	like($r->{out}, qr/^NAME\s+TYPE\s+POLICY\s+TTL\s+ANSWERS\s+WEIGHTS\n/, 'a header');
	like($r->{out}, qr/^api\.pools\.test\.\s+AAAA\s+sticky\s+60\s+1\s+blue=90 green=10 spare=0$/m,
	     'a row per pool');
	unlike($r->{out}, qr/app\.example/, 'only the zone asked for');
	$doc = json_of(ctl(qw(pool list --json)));
	ok($doc && (grep { $_->{zone} eq 'pools.test.' } @{ $doc->{pools} }), 'pool list --json');
	is_deeply([ sort keys %{ $doc->{pools}[0] } ], \@POOL_KEYS, 'with the documented keys');
	rejected('pool list of an unknown zone', [ qw(pool list nope.test) ], 1, qr/no zone nope\.test\./);

	$r = ctl(qw(status api.pools.test));
	is($r->{exit}, 0, 'status NAME') or diag(show($r));
	like($r->{out}, qr/^api\.pools\.test\. A  policy weighted  ttl 30  answers all\n  GROUP\s+WEIGHT\s+SHARE\s+HEALTHY\s+PREVIEW\s+TARGETS\n  blue\s+60\s+60\.0%\s+2\/2\s+blue\.api\.pools\.test\.\s+192\.0\.2\.10 192\.0\.2\.11\n  green\s+40\s+40\.0%\s+1\/1\s+green\.api\.pools\.test\.\s+198\.51\.100\.10\n/m,
	     'a table per pool: weight, share, preview name, targets');
	like($r->{out}, qr/spare\s+0\s+0\.0%\s+0\/0\s+pv-spare\.api\.pools\.test\.\s+\(none: never answered\)/,
	     'a group without targets');
	$doc = json_of(ctl(qw(status --json)));
	ok($doc && @{ $doc->{pools} } >= 5, 'status --json lists every pool');
	rejected('status of a name without pools', [ qw(status static.pools.test) ], 1,
		 qr/has no A or AAAA pool/);
};

# ---------------------------------------------------------------------------------------------
subtest 'pool delete' => sub {
	my $s = serial();
	ctl_ok('a twin for np', qw(pool set np.pools.test --type AAAA --group blue=2001:db8::30));
	my $r = ctl_ok('delete --type AAAA', qw(pool delete np.pools.test --type AAAA));
	like($r->{out}, qr/^np\.pools\.test\. AAAA: deleted: blue=100 -> -$/m, 'reports it');
	ok(pool_json('np.pools.test'), 'the A pool is still there');
	$r = ctl_ok('delete both', qw(pool delete api.pools.test));
	like($r->{out}, qr/A: deleted.*\n.*AAAA: deleted/, 'both types deleted');
	is(ctl(qw(pool show api.pools.test))->{exit}, 1, 'gone');
	my $h = history_json('api.pools.test', '--limit', 2);
	ok(@$h == 2 && !grep({ $_->{action} ne 'pool delete' || defined $_->{after} } @$h),
	   'recorded: action pool delete, after null');
	ok(serial() >= $s + 3, 'each change moved the serial forward');
	rejected('delete a pool that is not there', [ qw(pool delete api.pools.test) ], 1,
		 qr/api\.pools\.test\. has no A or AAAA pool/);
	ctl_ok('bring it back', qw(rollback api.pools.test));
	ok(pool_json('api.pools.test') && pool_json('api.pools.test', 'AAAA'),
	   'rollback brings both back (one command deleted both)');
};

# ---------------------------------------------------------------------------------------------
my $APP = zone_path('app.example');
(my $POOLS = $APP) =~ s/\.zone$/.pools/;

subtest 'apply and export-pools' => sub {
	my $r = ctl('apply', $POOLS);
	is($r->{exit}, 0, 'apply zones/app.example.pools') or diag(show($r));
	like($r->{out}, qr/: 4 created, 0 updated, 0 unchanged, 0 deleted$/m, 'four pools created');
	like($r->{out}, qr/^login\.app\.example\. A: created: - -> us-east=100 eu-west=100/m,
	     'each change printed');
	my $before = state();
	$r = ctl('apply', $POOLS);
	like($r->{out}, qr/^\S+: 0 created, 0 updated, 4 unchanged, 0 deleted$/,
	     'applied again: nothing to do') or diag(show($r));
	ok(state() eq $before, 'and nothing written (no history, no serial bump)');

	$r = ctl(qw(export-pools app.example));
	is($r->{exit}, 0, 'export-pools ZONE') or diag(show($r));
	my $export = $r->{out};
	like($export, qr/^# zone app\.example\.\n\npool api\.app\.example\. A\n/m, 'pool file text');
	unlike($export, qr/pools\.test/, 'only that zone');
	my $file = write_file('exported.pools', $export);
	$r = ctl('apply', $file);
	like($r->{out}, qr/0 created, 0 updated, 4 unchanged, 0 deleted/,
	     'apply -> export -> apply is a no-op') or diag(show($r));
	is(ctl(qw(export-pools app.example))->{out}, $export, 'export -> export gives the same text');

	# a second database: apply the export there, export again: the same text
	my $t2 = CutoverTest->new(zones => [$APP]);
	$r = $t2->ctl('apply', $file);
	is($r->{exit}, 0, 'the export applies to a fresh database') or diag(show($r));
	is($t2->ctl(qw(export-pools app.example))->{out}, $export, 'and exports to the same text');

	# edit, apply: the changes only
	(my $edited = $export) =~ s/(group green weight )0(\s+198\.51\.100\.10)/${1}25$2/;
	$edited =~ s/(pool shop\.app\.example\. A\n\tpolicy  sticky\n\tttl     )60/${1}90/;
	$r = ctl('apply', write_file('edited.pools', $edited));
	like($r->{out}, qr/^api\.app\.example\. A: updated: blue=100 green=0 -> blue=100 green=25$/m,
	     'the weight change') or diag(show($r));
	like($r->{out}, qr/^shop\.app\.example\. A: updated: blue=90 green=10 -> blue=90 green=10; ttl 60 -> 90$/m,
	     'the TTL change');
	like($r->{out}, qr/0 created, 2 updated, 2 unchanged, 0 deleted/, 'and the count');
	my $h = history_json('shop.app.example', '--limit', 1);
	is($h->[0]{action}, 'apply', 'history action apply');

	# --dry-run, --prune
	ctl_ok('an extra pool', qw(pool set extra.app.example --group blue=192.0.2.90));
	$before = state();
	$r = ctl('apply', $POOLS, '--prune', '--dry-run');
	like($r->{out}, qr/^extra\.app\.example\. A: deleted \(--prune\)/m, '--dry-run shows the prune');
	like($r->{out}, qr/2 updated, 2 unchanged, 1 deleted \(dry run: nothing written\)$/m,
	     '--dry-run says nothing was written') or diag(show($r));
	ok(state() eq $before, '--dry-run wrote nothing');
	$r = ctl('apply', $POOLS, '--prune');
	like($r->{out}, qr/0 created, 2 updated, 2 unchanged, 1 deleted$/m, '--prune') or diag(show($r));
	is(ctl(qw(pool show extra.app.example))->{exit}, 1, '--prune deleted the unlisted pool');
	ok(pool_json('np.pools.test'), 'pools of zones the file does not name are kept');
	is(history_json('extra.app.example', '--limit', 1)->[0]{action}, 'apply --prune',
	   'history action apply --prune');
	is(ctl(qw(export-pools app.example))->{out}, $export, 'back to the exported text');

	# stdin
	$r = ctl({ stdin => $file }, 'apply', '-');
	like($r->{out}, qr/^-: 0 created, 0 updated, 4 unchanged, 0 deleted$/m, 'apply - reads stdin')
		or diag(show($r));

	$r = ctl(qw(export-pools));
	like($r->{out}, qr/# zone app\.example\..*# zone pools\.test\./s, 'export-pools: every zone');
	rejected('export-pools of an unknown zone', [ qw(export-pools nope.test) ], 1,
		 qr/no zone nope\.test\./);
};

# ---------------------------------------------------------------------------------------------
subtest 'bad pool files: FILE:LINE, nothing written' => sub {
	my @bad = (
		[ 'type.pools', "pool a.app.example. MX\n group g weight 1 192.0.2.1\n",
		  qr/type\.pools:1: pool type 'MX': a pool is A or AAAA/ ],
		[ 'addr.pools', "# c\npool a.app.example.\n  group g weight 1 192.0.2.1 192.0.2.256\n",
		  qr/addr\.pools:3: group 'g': '192\.0\.2\.256' is not an IPv4 address/ ],
		[ 'family.pools', "pool a.app.example. AAAA\n group g weight 1 192.0.2.1\n",
		  qr/family\.pools:2: group 'g': '192\.0\.2\.1' is an IPv4 address; an AAAA pool/ ],
		[ 'keyword.pools', "pool a.app.example.\n colour blue\n group g weight 1\n",
		  qr/keyword\.pools:2: unknown keyword 'colour'/ ],
		[ 'dup.pools', "pool a.app.example.\n group g weight 1\npool A.APP.example\n group g weight 1\n",
		  qr/dup\.pools:3: pool A\.APP\.example\. A is already defined at line 1/ ],
		[ 'dupgroup.pools', "pool a.app.example.\n group g weight 1\n group g weight 2\n",
		  qr/dupgroup\.pools:3: group 'g' is already in this pool/ ],
		[ 'nogroups.pools', "pool a.app.example.\n ttl 30\n",
		  qr/nogroups\.pools:1: pool a\.app\.example\. A has no groups/ ],
		[ 'weight.pools', "pool a.app.example.\n group g weight -1 192.0.2.1\n",
		  qr/weight\.pools:2: group 'g': weight '-1' is not a whole number/ ],
		[ 'ttl.pools', "pool a.app.example.\n ttl soon\n group g weight 1\n",
		  qr/ttl\.pools:2: ttl 'soon'/ ],
		[ 'before.pools', "ttl 30\n", qr/before\.pools:1: 'ttl' before the first 'pool NAME TYPE' line/ ],
		[ 'quote.pools', "pool a.app.example.\n preview-prefix \"x\n group g weight 1\n",
		  qr/quote\.pools:2: a quote \("\) is not closed/ ],
		# found when writing: the file is fine on its own, the database refuses it
		[ 'static.pools', "pool ok.app.example.\n group g weight 1 192.0.2.1\n"
		  . "pool www.app.example.\n group g weight 1 192.0.2.1\n",
		  qr/static\.pools:3: www\.app\.example\. has static A records/ ],
		[ 'nozone.pools', "pool a.app.example.\n group g weight 1\npool a.nowhere.test.\n group g weight 1\n",
		  qr/nozone\.pools:3: a\.nowhere\.test\. is in no zone/ ],
		[ 'preview.pools', "pool www2.app.example.\n group blue weight 1 192.0.2.1\n"
		  . "pool blue.www2.app.example.\n group g weight 1 192.0.2.2\n",
		  qr/preview\.pools:3: blue\.www2\.app\.example\. is a preview name of the A pool/ ],
	);
	for my $b (@bad) {
		my ($name, $text, $re) = @$b;
		my $path = write_file($name, $text);
		rejected("apply $name", [ 'apply', $path, '--prune' ], 1, $re);
	}
	my $r = ctl('apply', write_file('many.pools', "pool a.app.example. MX\npool b.app.example.\n ttl x\n"));
	like($r->{err}, qr/many\.pools:1: .*\n.*many\.pools:3: .*\n.*many\.pools:2: pool b\.app\.example\. A has no groups.*\n.*not applied, 3 errors; nothing was written/,
	     'every error of a file is reported, then a summary');
	rejected('a file that is not there', [ 'apply', "$dir/no-such.pools" ], 1,
		 qr/cannot open .*no-such\.pools/);
};

# ---------------------------------------------------------------------------------------------
subtest 'zone re-import keeps the pools; zone delete removes them' => sub {
	my $pools_before = ctl(qw(export-pools))->{out};
	my $hist_before = ctl(qw(history --json))->{out};
	my $s = serial();
	my $r = $t->ctl('zone', 'import', $ZONE);
	is($r->{exit}, 0, 're-import pools.test') or diag(show($r));
	is(ctl(qw(export-pools))->{out}, $pools_before, 'the pools are unchanged');
	is(ctl(qw(history --json))->{out}, $hist_before, 'history is unchanged');
	ok(serial() > $s, 'the serial still moves forward');
	ctl_ok('and they can still be changed', qw(weight api.pools.test blue=1 --type A));
	$r = $t->ctl(qw(zone export pools.test));
	unlike($r->{out}, qr/^api\./m, 'zone export leaves pools out');

	$r = $t->ctl('zone', 'import', write_file('clash.zone', slurp($ZONE) . "api\tA\t192.0.2.9\n"));
	is($r->{exit}, 1, 'an import with a static A at a pool\'s name is refused') or diag(show($r));
	like($r->{err}, qr/api\.pools\.test\. has static A records/, 'and says why');
	is(ctl(qw(export-pools))->{out} =~ /pool api\.pools\.test\. A/ ? 1 : 0, 1, 'the pool stays');

	$r = $t->ctl(qw(zone delete pools.test));
	is($r->{exit}, 0, 'zone delete') or diag(show($r));
	$r = ctl(qw(pool list --json));
	ok(!grep({ $_->{zone} eq 'pools.test.' } @{ json_of($r)->{pools} }), 'its pools are gone');
	rejected('a pool in the deleted zone', [ qw(pool set api.pools.test --group blue=192.0.2.1) ],
		 1, qr/api\.pools\.test\. is in no zone/);
};

done_testing();
