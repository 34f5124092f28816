# SPDX-License-Identifier: MIT
# Bench data: the generated zones (one text per server flavour) and the dnsperf query files.
package BenchData;

use strict;
use warnings;

use Exporter qw(import);

use CutoverTest qw(write_file);

our @EXPORT_OK = qw(bench_zone scale_zone query_files scale_queries gdnsd_plugins pool_args
	$ZONE $POOL $FLIP $HC @BLUE @GREEN);

# The bench zone: reserved names only (RFC 6761 .test, RFC 5737 and 3849 addresses).
our $ZONE = 'bench.test';
our $POOL = "api.$ZONE";    # the blue/green name every server answers
our $FLIP = "flip.$ZONE";   # cutoverd only: one target per group, for the cutover timing
our $HC = "hc.$ZONE";       # cutoverd only: the health-checked pool
our @BLUE = ('192.0.2.10', '192.0.2.11');
our @GREEN = ('198.51.100.10', '198.51.100.11');
our ($W_BLUE, $W_GREEN) = (90, 10);

my $HOSTS = 9000;    # hNNNNN: A, every third one also AAAA
my $ALIASES = 1000;  # cNNNN: CNAME to a host in the zone

sub host { return sprintf('h%05d', $_[0]) }
sub host_a { my ($i) = @_; return sprintf('10.0.%d.%d', $i >> 8, $i & 255) }

# bench_zone(PATH, FLAVOUR): ~10,000 names. The blue/green name is a weighted pool in cutoverd
# (set with cutoverctl after the import, so absent here), gdnsd's weighted plugin (DYNA), and a
# static A RRset with blue's addresses in NSD and Knot.
sub bench_zone
{
	my ($path, $flavour) = @_;
	my @z = ("\$ORIGIN $ZONE.", '$TTL 3600',
		 '@ SOA ns1 hostmaster 2026112701 3600 600 86400 300', '@ NS ns1',
		 'ns1 A 192.0.2.1', '@ MX 10 ns1');
	for my $i (0 .. $HOSTS - 1) {
		push @z, host($i) . ' A ' . host_a($i);
		push @z, host($i) . " AAAA 2001:db8::$i" if $i % 3 == 0;
	}
	for my $i (0 .. $ALIASES - 1) {
		push @z, sprintf('c%04d CNAME %s', $i, host(($i * 7) % $HOSTS));
	}
	if ($flavour eq 'gdnsd') {
		push @z, 'api 30 DYNA weighted!api';
	} elsif ($flavour ne 'cutoverd') {
		push @z, map { "api 30 A $_" } @BLUE;
	}
	return write_file($path, join("\n", @z) . "\n");
}

# The pool's arguments for `cutoverctl pool set`: blue=90 green=10, TTL 30, no health check.
sub pool_args
{
	return ('pool', 'set', $POOL, '--group', 'blue=' . join(',', @BLUE), '--group',
		'green=' . join(',', @GREEN), '--weight', "blue=$W_BLUE", '--weight',
		"green=$W_GREEN", '--ttl', 30);
}

# The same pool in gdnsd's weighted plugin, grouped-single mode: one group is picked with odds
# by the sum of its addresses' weights (90:10), then all its addresses of equal weight answer;
# service_types up: always up, as the pool without a check.
sub gdnsd_plugins
{
	my $group = sub {
		my ($g, $w, @a) = @_;
		return "$g => { " . join(', ', map { "${g}$_ => [ $a[$_], " . $w / @a . ' ]' } 0 .. $#a)
			. ' }';
	};
	return "weighted => {\n service_types => up\n api => {\n  "
		. $group->('blue', $W_BLUE, @BLUE) . "\n  " . $group->('green', $W_GREEN, @GREEN)
		. "\n }\n}";
}

# scale_zone(PATH, NAMES): NAMES A records under big.test; returns the name of the last one.
sub scale_zone
{
	my ($path, $n) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh "\$ORIGIN big.test.\n\$TTL 3600\n\@ SOA ns1 hostmaster 1 3600 600 86400 300\n"
		. "\@ NS ns1\nns1 A 192.0.2.1\n";
	for my $i (0 .. $n - 1) {
		printf $fh "n%07d A 10.%d.%d.%d\n", $i, ($i >> 16) & 255, ($i >> 8) & 255, $i & 255;
	}
	close $fh or die "$path: $!";
	return sprintf('n%07d.big.test', $n - 1);
}

# scale_queries(PATH, NAMES, COUNT): COUNT random existing names of the scale zone.
sub scale_queries
{
	my ($path, $n, $count) = @_;
	srand(7);
	return write_file($path, join('', map { sprintf("n%07d.big.test A\n", int(rand($n))) }
				      1 .. $count));
}

# query_files(DIR) -> { static => FILE, mix => FILE, pool => FILE }, 10,000 lines each (the pool
# file: one line, dnsperf repeats it). Fixed seed: every run sends the same queries.
# The mix: 50 % A hits, 10 % AAAA hits, 15 % NXDOMAIN, 10 % NODATA, 10 % CNAME (followed to an
# A in the zone), 5 % the pool name.
sub query_files
{
	my ($dir) = @_;
	srand(42);
	my $rand_host = sub { host(int(rand($HOSTS))) . ".$ZONE" };
	my @static = map { $rand_host->() . " A" } 1 .. 10000;
	my @mix;
	for (1 .. 10000) {
		my $r = rand(100);
		push @mix, $r < 50 ? $rand_host->() . ' A'
			 : $r < 60 ? host(3 * int(rand($HOSTS / 3))) . ".$ZONE AAAA"
			 : $r < 75 ? sprintf('x%06d.%s A', int(rand(1e6)), $ZONE)
			 : $r < 85 ? $rand_host->() . ' MX'
			 : $r < 95 ? sprintf('c%04d.%s A', int(rand($ALIASES)), $ZONE)
			 : "$POOL A";
	}
	return {
		static => write_file("$dir/q-static.txt", join("\n", @static) . "\n"),
		mix => write_file("$dir/q-mix.txt", join("\n", @mix) . "\n"),
		pool => write_file("$dir/q-pool.txt", "$POOL A\n"),
	};
}

1;
