#!/usr/bin/perl
# sa-tokens.pl - prints the Bayes tokens SpamAssassin (Plugin/Bayes.pm) makes of a line or of a
# message's headers: the oracle that test_bayes_tokens.c's expected tokens were derived from.
# usage: sa-tokens.pl line REGION TEXT | sa-tokens.pl headers FILE | sa-tokens.pl message FILE
use strict; use warnings;
use Mail::SpamAssassin;
my $sa = Mail::SpamAssassin->new({ userprefs_filename => '/dev/null', local_tests_only => 1,
  dont_copy_prefs => 1, home_dir_for_helpers => ($ENV{TMPDIR} // '/tmp'), debug => 0 });
$sa->init(1);
my ($bayes) = grep { ref($_) eq 'Mail::SpamAssassin::Plugin::Bayes' } @{$sa->{plugins}->{plugins}};
die "no bayes plugin" unless $bayes;
{ package FakeStore; sub new { bless {}, shift } sub get_magic_re { undef } }
$bayes->{store} = FakeStore->new;
my $mode = shift;
if ($mode eq 'line') {
  my ($region, $text) = @_ ? @ARGV : ();
  ($region, $text) = @ARGV;
  $bayes->{stopword_cache} = {};
  print "$_\n" for $bayes->_tokenize_line($text, '', $region);
} else {
  my $file = shift; local $/; open my $fh, '<', $file or die; my $text = <$fh>;
  my $msg = $sa->parse($text);
  if ($mode eq 'headers') {
    my %h = $bayes->_tokenize_headers($msg);
    $bayes->{stopword_cache} = {};
    for my $k (sort keys %h) { print "$_\n" for $bayes->_tokenize_line($h{$k}, "H$k:", 0); }
  } else {
    my $md = $bayes->get_body_from_msg($msg);
    my $t = $bayes->tokenize($msg, $md);
    print "$_\n" for sort values %$t;
  }
}
