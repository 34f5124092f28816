# SPDX-License-Identifier: MIT
# Bench report: medians, number formats, markdown tables and CSV files.
package BenchReport;

use strict;
use warnings;

use Exporter qw(import);

use CutoverTest qw(write_file);

our @EXPORT_OK = qw(median quantile num ms ratio md_table csv_file);

# The median of the defined values (undef when there are none).
sub median
{
	return quantile(0.5, @_);
}

# Nearest-rank quantile Q (0..1) of the defined values; the mean of the middle two for a median
# of an even count.
sub quantile
{
	my ($q, @v) = @_;
	@v = sort { $a <=> $b } grep { defined } @v;
	return undef unless @v;
	if ($q == 0.5 && @v % 2 == 0) {
		return ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
	}
	my $i = int($q * @v + 0.999999) - 1;
	$i = 0 if $i < 0;
	$i = $#v if $i > $#v;
	return $v[$i];
}

# 123,456 (thousands separated); '-' for undef.
sub num
{
	my ($v, $dec) = @_;
	return '-' unless defined $v;
	my $s = sprintf('%.*f', $dec // 0, $v);
	1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
	return $s;
}

# Seconds as milliseconds with 3 decimals (or the given number).
sub ms
{
	my ($s, $dec) = @_;
	return defined $s ? sprintf('%.*f', $dec // 3, $s * 1000) : '-';
}

# 1.07x; '-' when either side is missing.
sub ratio
{
	my ($v) = @_;
	return defined $v ? sprintf('%.2fx', $v) : '-';
}

# A markdown table: md_table([HEADERS], [[CELLS]...]) -> text. Numeric-looking columns are
# right-aligned.
sub md_table
{
	my ($head, $rows) = @_;
	my @w = map { length } @$head;
	for my $r (@$rows) {
		for my $i (0 .. $#$r) {
			my $l = length($r->[$i] // '');
			$w[$i] = $l if !defined $w[$i] || $l > $w[$i];
		}
	}
	my @right = map {
		my $i = $_;
		my $num = qr/^-?$|^[~<>]?[\d,.]+\s*(%|x|ms|us|s|MiB|MB)?$/;
		my $n = grep { ($_->[$i] // '') =~ $num } @$rows;
		@$rows && $n == @$rows;
	} 0 .. $#$head;
	my $line = sub {
		my ($cells) = @_;
		return '| ' . join(' | ', map {
			my $c = $cells->[$_] // '';
			my $pad = ' ' x ($w[$_] - length($c));
			$right[$_] ? $pad . $c : $c . $pad;
		} 0 .. $#$head) . " |\n";
	};
	my $sep = '|' . join('|', map { $right[$_] ? ('-' x ($w[$_] + 1)) . ':' : '-' x ($w[$_] + 2) }
			    0 .. $#$head) . "|\n";
	return $line->($head) . $sep . join('', map { $line->($_) } @$rows);
}

# csv_file(PATH, [HEADERS], [[CELLS]...]): RFC 4180 quoting where needed.
sub csv_file
{
	my ($path, $head, $rows) = @_;
	my $cell = sub {
		my ($v) = @_;
		$v = '' unless defined $v;
		return $v =~ /[",\n]/ ? '"' . ($v =~ s/"/""/gr) . '"' : $v;
	};
	return write_file($path, join('', map { join(',', map { $cell->($_) } @$_) . "\n" }
				     $head, @$rows));
}

1;
