" Vim syntax file for kpidsl schemes (.kpi). The word lists follow grammars/kpi.lark;
" tests/test_textmate.py fails when a word of the grammar is missing here.
if exists("b:current_syntax") | finish | endif

syn case match

syn keyword kpiStatement scheme fact constant curve kpi pay budget example drop grade source
syn keyword kpiKeyword above amount and at attainment based below better by cap column currency
syn keyword kpiKeyword effective else expect floor for from given group if is linear missing
syn keyword kpiKeyword month most not of on only or otherwise paid pays per period plan pool
syn keyword kpiKeyword plus rate round sector size step steps team then through tiers to total uncapped unless
syn keyword kpiKeyword points fraction
syn keyword kpiKeyword version weight
syn keyword kpiKeyword date each employee field in key one order running share the where
syn keyword kpiKeyword a balance carry clawback draw negative original recovered within with minimum
syn keyword kpiFunction min max abs
syn keyword kpiUnit money count percent ratio number minutes hours days
syn keyword kpiWord quarter year week b2b b2c infobusiness payouts up down ceiling higher lower
syn keyword kpiWord activity efficiency result marginal whole average en ru median text
syn keyword kpiWord jan feb mar apr may jun jul aug sep oct nov dec
syn keyword kpiWord monthly recoverable
syn match kpiWord "\<half\s\+\(up\|even\|down\)\>"
syn keyword kpiCurrency RUB USD EUR KZT BYN UZS CNY GBP
syn match kpiCurrency "[₽€]"

syn match kpiNumber "\<\d[0-9_]*\(\.\d\+\)\?"
syn match kpiPercent "\<\d[0-9_]*\(\.\d\+\)\?\s*%"
syn match kpiDate "\<\d\{4}-\d\{2}\(-\d\{2}\)\?\>"
syn match kpiOperator "[-+*/=<>!×÷−≥≤≠]"
syn match kpiDeclared "\(^\s*\(scheme\|fact\|constant\|curve\|kpi\|pay\|budget\|example\|grade\)\s\+\)\@<=\k\+"

syn region kpiLabel start=+"+ skip=+\\.+ end=+"\|$+ oneline
syn match kpiComment "#.*$" contains=@Spell

hi def link kpiStatement Structure
hi def link kpiKeyword Keyword
hi def link kpiFunction Function
hi def link kpiUnit Type
hi def link kpiWord Constant
hi def link kpiCurrency Special
hi def link kpiNumber Number
hi def link kpiPercent Number
hi def link kpiDate Number
hi def link kpiOperator Operator
hi def link kpiDeclared Identifier
hi def link kpiLabel String
hi def link kpiComment Comment

let b:current_syntax = "kpi"
