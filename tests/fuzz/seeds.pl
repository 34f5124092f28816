#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Writes the hand-made seeds of the fuzz corpora (tests/fuzz/corpus/<target>/seed-*): real
# queries made with Net::DNS for the names of the query target's fixture, EDNS and ECS
# options, and the example zones, pools and config. Run from the top directory after changing
# a target's input format; the inputs libFuzzer found (merged with make fuzz-merge) stay.
use strict;
use warnings;
use File::Copy qw(copy);
use File::Path qw(make_path);
use Net::DNS;

my $dir = 'tests/fuzz/corpus';
make_path(map { "$dir/$_" } qw(query zonefile poolfile config edns));

sub put {
	my ($target, $name, $bytes) = @_;
	make_path("$dir/$target");
	open(my $f, '>:raw', "$dir/$target/seed-$name") or die "$target/$name: $!";
	print $f $bytes;
	close($f) or die;
}

# An ECS option (RFC 7871 6): family, source prefix, scope 0, the address cut to the prefix.
sub ecs {
	my ($family, $source, @bytes) = @_;
	my $addr = pack('C*', @bytes[0 .. int(($source + 7) / 8) - 1]);
	return pack('nnnCC', 8, 4 + length($addr), $family, $source, 0) . $addr;
}

# query: control byte (bit 0 TCP, bits 1-3 source) + message
my @names = qw(fuzz.example www.fuzz.example WwW.FuZz.ExAmPlE nope.fuzz.example alias.fuzz.example
    chain.fuzz.example loop1.fuzz.example out.fuzz.example toapi.fuzz.example
    toshop.fuzz.example x.wild.fuzz.example a.b.wild.fuzz.example host.wild.fuzz.example
    x.host.wild.fuzz.example y.cw.fuzz.example b.c.fuzz.example sub.fuzz.example
    www.sub.fuzz.example api.fuzz.example green.api.fuzz.example blue.api.fuzz.example
    shop.fuzz.example pv-green.shop.fuzz.example login.fuzz.example dead.fuzz.example
    gone.fuzz.example many.fuzz.example big.fuzz.example _https._tcp.fuzz.example
    ptr.fuzz.example www.other.example mixed.case.fuzz.example);
my @types = qw(A AAAA MX TXT NS SOA CNAME ANY DS SRV PTR CAA HINFO AXFR);
my $i = 0;
for my $name (@names) {
	for my $type ($name =~ /^(www|api|shop|fuzz)\./ ? @types : qw(A AAAA)) {
		my $p = Net::DNS::Packet->new($name, $type, 'IN');
		$p->header->id($i || 0x4242); # 0 would be a random ID
		$p->header->rd(1);
		my $ctl = ($i % 2) | ((($i / 2) % 8) << 1);
		put('query', sprintf('%03d-%s-%s', $i++, $name, $type), pack('C', $ctl) . $p->data);
	}
}
my %edns = (
	'edns'     => [ 1232, 0, '' ],
	'edns-do'  => [ 4096, 0x8000, '' ],
	'edns-512' => [ 100, 0, '' ],
	'badvers'  => [ 1232, 0x10000, '' ],
	'ecs4'     => [ 1232, 0, ecs(1, 24, 192, 0, 2) ],
	'ecs4-0'   => [ 1232, 0, ecs(1, 0) ],
	'ecs6'     => [ 1232, 0, ecs(2, 56, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 1) ],
	'cookie'   => [ 1232, 0, pack('nn', 10, 8) . 'abcdefgh' ],
);
for my $name (qw(shop.fuzz.example big.fuzz.example api.fuzz.example www.fuzz.example)) {
	for my $tag (sort keys %edns) {
		my ($size, $ttl, $opts) = @{ $edns{$tag} };
		my $p = Net::DNS::Packet->new($name, $name =~ /^big/ ? 'TXT' : 'A', 'IN');
		$p->header->id(0x4242);
		my $msg = $p->data;
		substr($msg, 10, 2) = pack('n', 1);
		$msg .= pack('Cnnn', 0, 41, $size, $ttl >> 16) . pack('nn', $ttl & 0xFFFF, length $opts)
		    . $opts;
		put('query', "$tag-udp-$name", pack('C', 4) . $msg);
		put('query', "$tag-tcp-$name", pack('C', 11) . $msg);
		put('edns', "$tag", pack('nN', $size, $ttl) . $opts);
	}
}
my $hdr = pack('n6', 0xbeef, 0, 1, 0, 0, 0);
put('query', 'notify', pack('C', 0) . pack('n6', 1, 0x2000, 1, 0, 0, 0) . "\0\0\6\0\1");
put('query', 'chaos', pack('C', 0) . $hdr . "\7version\4bind\0\0\x10\0\3");
put('query', 'pointer-loop', pack('C', 0) . $hdr . "\xc0\x0c\0\1\0\1");
put('query', 'qdcount0', pack('C', 0) . pack('n6', 7, 0, 0, 0, 0, 0));
put('query', 'short', pack('C', 0) . "\1\2\3\4\5");
put('query', 'response', pack('C', 0) . pack('n6', 7, 0x8000, 1, 0, 0, 0) . "\0\0\1\0\1");
put('edns', 'two-ecs', pack('nN', 1232, 0) . ecs(1, 24, 192, 0, 2) . ecs(1, 24, 192, 0, 2));
put('edns', 'ecs-overrun', pack('nN', 1232, 0) . pack('nnnCC', 8, 40, 1, 24, 0) . "\xc0\0\2");
put('edns', 'ecs-bits', pack('nN', 1232, 0) . ecs(1, 23, 192, 0, 3));
put('edns', 'ecs-scope', pack('nN', 1232, 0) . pack('nnnCC', 8, 7, 1, 24, 8) . "\xc0\0\2");
put('edns', 'ecs-family', pack('nN', 1232, 0) . pack('nnnCC', 8, 4, 3, 0, 0));

# zonefile: the example and test zones as they are, and a few small ones
for my $f (glob('zones/*.zone tests/unit/data/*.zone')) {
	(my $n = $f) =~ s{.*/}{};
	copy($f, "$dir/zonefile/seed-$n") or die "$f: $!";
}
put('zonefile', 'small.zone', <<'EOT');
$ORIGIN z.test.
$TTL 60
@ IN SOA ns hostmaster 1 2 3 4 5
@ IN NS ns
ns IN A 192.0.2.1
* IN TXT "wild" "card"
sub IN NS ns.sub
ns.sub IN AAAA 2001:db8::1
c IN CNAME ns
x TYPE65534 \# 3 abcdef
EOT
put('zonefile', 'include.zone', "\$ORIGIN i.test.\n\@ SOA ns h 1 2 3 4 5\nNS ns\n"
    . "\$INCLUDE in.zone sub.i.test.\nns A 192.0.2.1\n");

# poolfile: the example pools, and one pool per health check kind
copy('zones/app.example.pools', "$dir/poolfile/seed-app.example.pools") or die;
put('poolfile', 'checks.pools', <<'EOT');
pool a.example. A
	policy sticky
	ttl 5
	answers 1
	preview-prefix "pv-"
	check https:8443/healthz?full=1
	check-host "api.internal"
	expect-status 200-204
	expect-body "ok \"quoted\""
	insecure
	interval 2s
	timeout 500ms
	rise 1
	fall 5
	all-down nodata
	group blue weight 1000000 192.0.2.1 192.0.2.2
	group green weight 0
pool a.example. AAAA
	policy failover
	preview off
	check tcp:443
	interval 1m
	group one weight 1 2001:db8::1
	group two weight 2 ::ffff:192.0.2.1
EOT
put('poolfile', 'errors.pools', "ttl 5\npool bad..name A\npool x.example. MX\n"
    . "\tgroup blue weight -1 300.1.1.1\n\tpolicy random\n\tcheck ftp:21\n");

# config: the example config, every setting once, and some bad lines
copy('dist/cutoverd.conf', "$dir/config/seed-cutoverd.conf") or die;
put('config', 'all.conf', <<'EOT');
db /var/lib/cutover # comment
listen 127.0.0.1:5300
listen [::1]:5300
listen ::1
threads 4
tcp-idle-timeout 30
tcp-max-clients 1000
http [::1]:8053
user root
log-level debug
syslog yes
query-log on
query-log-rate 0
EOT
put('config', 'bad.conf', "threads 0\nlisten 1.2.3.4:99999\nhttp 127.0.0.1\nnope 1\n");
put('config', 'rrl.conf', "listen 127.0.0.1:5300\nrrl-responses-per-second 20\nrrl-slip 2\n"
    . "rrl-ipv4-prefix 24\nrrl-ipv6-prefix 56\nrrl-table-size 65536\n");
