#!/usr/bin/env python3
"""Flash of a firmware ELF by source module (issue #15's measurement).

Every instruction's bytes go to the innermost inlined frame that is not Rust's own library
(`/rustc/...`), found with `llvm-symbolizer --inlining` from the ELF's debug info (the release
profile keeps `debug = true`); code of `core` or compiler-builtins that is not inlined into
anything goes to its module by symbol name. `.rodata` and the vector table are not counted.

Usage: python3 firmware-example/size-by-module.py ELF [GROUP...]
  e.g. python3 firmware-example/size-by-module.py \
         "${CARGO_TARGET_DIR:-firmware-example/target}/thumbv7m-none-eabi/release/valve" 'ipe-nostd vm'
Needs llvm-symbolizer on PATH (Debian: `apt-get install llvm`) and the rustup `llvm-tools`.
"""
import subprocess,sys,re,collections
E=sys.argv[1]
host=re.search(r'^host: (\S+)',subprocess.check_output(['rustc','-vV']).decode(),re.M).group(1)
T=subprocess.check_output(['rustc','--print','sysroot']).decode().strip()+'/lib/rustlib/'+host+'/bin/'
dis=subprocess.check_output([T+'llvm-objdump','-d','--no-show-raw-insn',E]).decode()
addrs=[]
cur_fn=None
for l in dis.splitlines():
    m=re.match(r'^([0-9a-f]+) <(.*)>:',l)
    if m: cur_fn=m.group(2); continue
    m=re.match(r'^\s+([0-9a-f]+):\s',l)
    if m: addrs.append((int(m.group(1),16),cur_fn))
# sizes: next address within same function, else 2
sizes=[]
for i,(a,f) in enumerate(addrs):
    if i+1<len(addrs) and addrs[i+1][1]==f: sizes.append(addrs[i+1][0]-a)
    else: sizes.append(2)
inp='\n'.join(hex(a) for a,_ in addrs)+'\n'

out=subprocess.run(['llvm-symbolizer','--obj='+E,'--inlining','--demangle'],input=inp.encode(),capture_output=True).stdout.decode()
blocks=[b for b in out.split('\n\n')]
def module(frames):
    # frames: list of (fn, file) innermost first
    for fn,file in frames:
        if '/rustc/' in file or file.startswith('??'):
            continue
        m=re.search(r'ipe-nostd/src/(.*)\.rs',file)
        if m:
            p=m.group(1)
            if p.startswith('verify'): return 'ipe-nostd verify'
            if p.startswith('vm'): return 'ipe-nostd vm'
            return 'ipe-nostd '+p
        if 'firmware-example' in file: return 'app (firmware-example)'
        m=re.search(r'registry/src/[^/]+/([a-zA-Z_-]+?)-[0-9]',file)
        if m: return 'dep '+m.group(1)
        return 'other '+file[-40:]
    fn=frames[-1][0] if frames else '?'
    for key,name in [('core::fmt','core::fmt'),('fmt::','core::fmt'),('core::str','core::str'),('core::slice::sort','core::slice::sort'),('compiler_builtins','compiler-builtins'),('__aeabi','compiler-builtins'),('mem','compiler-builtins'),('core::panicking','core::panicking'),('core::unicode','core::str')]:
        if key in fn: return name
    return 'core other'
cat=collections.Counter(); fnby=collections.defaultdict(collections.Counter)
for (a,f),s,b in zip(addrs,sizes,blocks):
    lines=[x for x in b.strip().split('\n') if x]
    frames=[(lines[i],lines[i+1] if i+1<len(lines) else '??') for i in range(0,len(lines),2)]
    m=module(frames); cat[m]+=s; fnby[m][f]+=s
tot=sum(cat.values())
for c,s in cat.most_common(): print(f"{c:32s} {s:7d}")
print('code total',tot)
for c in sys.argv[2:]:
    print('==',c)
    for f,s in fnby[c].most_common(15): print(f"  {s:6d} {f[:120]}")
