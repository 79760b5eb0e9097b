#!/bin/bash
# record.sh NAME DIR PREFIX SYSCALL PATTERN ERRNO EXTRA -- cmd...
# Runs cmd in DIR under strace, failing the first SYSCALL whose line matches PATTERN (counted within its process),
# and writes a trimmed excerpt to out/NAME.strace.
W=${W:-/tmp/ff}  # scratch directory holding stage/, imp/, the wheel and out/
name=$1; dir=$2; prefix=$3; sc=$4; pat=$5; err=$6; extra=$7; shift 8
cd $dir
rm -rf $prefix; [ "$prefix" = prefix ] && mkdir prefix
env -u PYTHONDONTWRITEBYTECODE LC_ALL=C strace -f -qq -e trace=$sc,copy_file_range $extra -o $W/clean.txt "$@" >/dev/null 2>&1
line=$(grep -E "^[0-9]+ +$sc\(" $W/clean.txt | grep -E -- "$pat" | head -1)
pid=${line%% *}
n=$(grep -E "^$pid +$sc\(" $W/clean.txt | grep -n -E -- "$pat" | head -1 | cut -d: -f1)
[ -n "$n" ] || { echo "$name: no call matches $pat"; exit 9; }
rm -rf $prefix; [ "$prefix" = prefix ] && mkdir prefix
inj="$sc:error=$err:when=$n"; [ "$err" = "${err#retval}" ] || inj="$sc:$err:when=$n"
env -u PYTHONDONTWRITEBYTECODE LC_ALL=C strace -f -qq -e trace=file,desc,copy_file_range $extra -e inject=$inj -o $W/full.txt "$@" > $W/o.stdout 2> $W/o.stderr
rc=$?
o=$W/out/$name.strace
{
  echo "# $(echo "$@" | sed "s#$(pwd)/##g; s#/tmp/v/bin/#<venv>/bin/#g; s#/root/.pyenv/versions/3.11.7/bin/#<python 3.11.7>/bin/#g")"
  echo "# strace -f -e trace=file,desc,copy_file_range $extra -e inject=$inj"
  echo "# exit status: $rc"
  sed 's/^/# stderr: /' $W/o.stderr | grep -v '^# stderr: $'
  find $prefix -printf '%P %M %s\n' 2>/dev/null | sort | sed 's/^/# left: /'
  ln=$(grep -n INJECT $W/full.txt | head -1 | cut -d: -f1)
  sed -n "$((ln-6)),$((ln+9))p" $W/full.txt
} | sed -E "s#$(pwd)/##g; s#^[0-9]+ +##; s#\[\{tv_sec=[^]]*\]#[...]#; s#0x[0-9a-f]{6,}#0x...#g" | grep -v -E '^(mmap|munmap|brk|ioctl\(2|lseek)' > $o
echo "$name rc=$rc n=$n"
