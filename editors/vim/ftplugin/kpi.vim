" kpidsl schemes: '#' comments; `gq` is left alone, `kpidsl fmt` formats.
if exists("b:did_ftplugin") | finish | endif
let b:did_ftplugin = 1
setlocal commentstring=#\ %s comments=:#
setlocal iskeyword=@,48-57,_,192-255
setlocal expandtab shiftwidth=2 softtabstop=2
let b:undo_ftplugin = "setlocal commentstring< comments< iskeyword< expandtab< shiftwidth< softtabstop<"
