" kpidsl schemes
autocmd BufRead,BufNewFile *.kpi setfiletype kpi
