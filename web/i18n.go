package web

import (
	"net/http"
	"strings"
)

// messages are the UI's words; zh-CN is the default, English on request
// (?lang=en, remembered in a cookie).
var messages = map[string]map[string]string{
	"zh": {
		"app": "政策找人 · 低收入人口动态监测", "login": "登录", "logout": "退出", "username": "用户名", "password": "密码",
		"bad_login": "用户名或密码错误", "inbox": "预警收件箱", "rule": "规则", "severity": "等级", "status": "状态",
		"region": "区划代码前缀", "region_code": "区划代码", "filter": "筛选", "all": "全部", "due": "办结时限", "reason": "预警原因", "subject": "对象",
		"overdue": "已超期", "first_seen": "首次发现", "last_seen": "最近发现", "evidence_as_of": "证据截至", "household": "家庭", "members": "家庭成员",
		"evidence": "预警依据", "details": "详细信息", "name": "姓名", "id_number": "身份证号", "sex": "性别", "birth_date": "出生日期",
		"relation": "与户主关系", "tier": "保障类别", "address": "家庭住址", "grid": "网格", "income": "家庭年收入",
		"benefit": "月保障金额", "member_count": "家庭人口", "outside_registry": "库外人员", "alerts_shown": "条预警",
		"no_alerts": "没有符合条件的预警", "source": "来源", "record": "记录", "file": "文件", "line": "行", "back": "返回收件箱",
		"critical": "紧急", "high": "高", "medium": "中", "low": "低",
		"new": "新预警", "dispatched": "已派单", "visited": "已走访", "resolved": "已办结", "dismissed": "已排除",
		"dibao": "低保", "tekun": "特困", "edge": "低保边缘", "expenditure": "支出型困难", "monitor": "监测对象",
		"male": "男", "female": "女", "lang_other": "English",
		"d.ratio": "自付/人均年收入", "d.bracket": "救助档次", "d.recommended_max": "建议救助上限（元）", "d.approval": "审批层级",
		"d.oop_12m": "12个月医疗自付（元）", "d.annual_income": "家庭年收入（元）", "d.member_count": "家庭人口",
		"d.per_capita_after_oop": "扣除医疗支出后人均年收入（元）", "d.annual_standard": "年低保标准（元）", "d.tier": "保障类别",
		"d.level": "残疾等级", "d.diagnoses": "诊断记录数", "d.status": "学籍状态", "d.members": "家庭成员数",
		"d.signals": "困难信号", "d.types": "困难类型", "lang_other_code": "en", "not_found": "没有这条预警",
		"review": "待确认匹配", "review_hint": "这些记录没有可用的身份证号，模型无法确定是否为同一人：请对照后确认。", "decided": "已记录决定：",
		"probability": "匹配概率", "id_contradicted": "身份证号与记录中的人不符", "id_is_of": "此身份证号属于", "id_record_says": "，记录写的却是", "registry_person": "低收入人口库人员", "note": "说明", "same_person": "是同一人", "not_same_person": "不是同一人",
		"nothing_review": "没有待确认的匹配", "form_expired": "表单已过期，请重新提交",
		"too_many_attempts": "登录失败次数过多，请15分钟后再试",
		"my_tasks":          "我的走访任务", "outcome_saved": "走访结果已保存", "no_tasks": "暂无走访任务", "what_to_check": "核实事项：", "save_outcome": "保存走访结果",
		"t.open": "待走访", "t.done": "已走访", "t.cancelled": "已取消",
		"outcome": "走访结果", "history": "处理记录", "a.dispatch": "派单走访", "a.visit": "记录走访结果", "a.resolve": "办结", "a.dismiss": "排除", "a.reopen": "重新打开",
		"o.assisted_application": "已协助申请", "o.already_receiving": "已在享受救助", "o.not_eligible": "不符合条件", "o.not_found": "未找到", "o.refused": "拒绝", "o.other": "其他",
		"link": "关联依据", "m.id_exact": "身份证号一致", "m.id_repaired": "身份证号纠错后一致", "m.id_completed": "身份证号一致（库内号码被Excel存成数字）", "m.probabilistic": "概率匹配",
		"m.reviewed": "人工确认", "m.review": "待人工确认", "m.id_outside_registry": "库外人员（身份证号）", "m.unlinked": "未关联",
		"due.overdue": "已超期", "due.24h": "24小时内到期", "due.7d": "7天内到期", "county_queue": "县级督办队列",
		"export_xlsx": "导出Excel", "prev_page": "上一页", "next_page": "下一页", "counts": "统计", "total": "合计", "open": "未办结",
		"audit": "审计日志", "time": "时间", "action": "操作", "from": "起", "to": "止",
		"task_queue": "走访任务队列", "assigned": "已指派任务", "task_sheet": "离线走访任务表", "township_queue": "乡镇（街道）队列",
		"upload_sheet": "上传填好的任务表", "download_sheet": "下载任务表（Excel）", "upload": "上传", "task": "任务", "assignee": "指派给", "assign": "指派",
		"e.operators_only": "此页面供经办人员和管理员使用", "e.admins_only": "此页面仅供管理员使用", "e.sheets_only": "任务表供网格员和经办人员使用", "e.form_expired": "表单已过期或不是从本系统提交的：请刷新页面后重试",
		"analytics": "分析", "e.analysts_only": "此页面仅供数据分析人员使用", "e.internal": "系统出错，请稍后重试；问题持续请联系管理员", "e.back_home": "返回我的工作页",
		"e.no_snapshot": "尚无分析快照：每次运行任务后生成（需设置假名密钥环境变量）", "e.no_cohort": "没有这个人群", "e.cohort_failed": "无法统计这个人群，请检查其定义",
		"e.sql_record_level": "用SQL定义人群需要明细级分析权限", "e.record_level_only": "此功能需要明细级分析权限（record_analyst）", "e.query_failed": "查询未能执行", "e.bad_format": "不支持的导出格式",
		"funnel": "政策找人漏斗", "funnel_by_rule": "按预警规则", "funnel_by_region": "按乡镇（街道）", "funnel_by_month": "按预警月份", "f.raised": "发现预警", "f.dispatched": "已派单", "f.visited": "已走访", "f.in_time": "按时走访",
		"f.helped": "协助申请", "f.changed": "已纳入或调整救助", "f.median_hours": "走访用时中位数（小时）", "small_note": "小于%d的数显示为<%[1]d，可能推算出它的数显示为×",
		"by_id_county": "（库外人员，按身份证号归县）", "count": "人数", "by_month": "按月", "by_region": "按区划", "month": "月份", "region_name": "区划名称", "cohort_version": "人群定义版本",
		"snapshot": "分析快照", "discovery_share": "库外发现后纳入救助", "cohorts": "人群", "new_cohort": "新建人群", "sql_page": "SQL查询", "version": "版本", "author": "创建人",
		"no_cohorts": "尚未保存人群", "made_by": "统计依据：", "cohort": "人群", "all_regions": "全部区划", "versions": "历史版本", "edit_cohort": "修改人群（保存为新版本）",
		"unit": "统计单位", "u.person": "人", "u.household": "户", "membership": "范围", "ms.registry": "低收入人口库内", "ms.outside": "库外（数据发现）", "ms.both": "库内和库外",
		"region_pick": "区划", "person_filters": "人员条件", "age_from": "年龄自", "age_to": "年龄至", "size_from": "家庭人口自", "size_to": "家庭人口至", "signals_12m": "近12个月困难信号（任一）",
		"s.severe_disability": "重度残疾", "s.serious_illness": "重特大疾病", "s.severe_mental_disorder": "严重精神障碍", "s.dropout_child": "适龄儿童辍学", "s.death": "死亡",
		"oop_at_least": "近12个月医疗自付不少于（元）", "alerts_filter": "预警（规则、状态、走访结果）", "period": "统计期间", "last_months": "最近几个月", "cohort_sql": "或用SQL定义（返回 month, village, person 或 household 列）",
		"save_cohort": "保存人群", "sql_limits": "每次查询最多显示%d行，最长%s，内存上限%s；所有查询记入审计日志", "views": "可查询的分析视图", "run": "执行", "download": "下载", "truncated": "仅显示前若干行，下载可得全部",
		"role.admin": "管理员", "role.operator": "经办人员", "role.gridworker": "网格员", "role.analyst": "数据分析（汇总）", "role.record_analyst": "数据分析（明细）",
		"sheet_taken": "已记录", "result": "结果", "r.taken": "已记录", "r.refused": "未记录", "r.skipped": "未填写",
	},
	"en": {
		"app": "safetynet · the policy finds the people", "login": "Log in", "logout": "Log out", "username": "User name", "password": "Password",
		"bad_login": "Wrong user name or password", "inbox": "Alert inbox", "rule": "Rule", "severity": "Severity", "status": "Status",
		"region": "Region-code prefix", "region_code": "Region code", "filter": "Filter", "all": "All", "due": "Due", "reason": "Reason", "subject": "Subject",
		"overdue": "Overdue", "first_seen": "First seen", "last_seen": "Last seen", "evidence_as_of": "Evidence as of", "household": "Household", "members": "Members",
		"evidence": "Evidence", "details": "Details", "name": "Name", "id_number": "ID number", "sex": "Sex", "birth_date": "Birth date",
		"relation": "Relation", "tier": "Tier", "address": "Address", "grid": "Grid", "income": "Annual income",
		"benefit": "Monthly benefit", "member_count": "Members", "outside_registry": "Outside the registry", "alerts_shown": "alerts",
		"no_alerts": "No alerts match", "source": "Source", "record": "Record", "file": "File", "line": "Line", "back": "Back to the inbox",
		"critical": "critical", "high": "high", "medium": "medium", "low": "low",
		"new": "new", "dispatched": "dispatched", "visited": "visited", "resolved": "resolved", "dismissed": "dismissed",
		"dibao": "dibao", "tekun": "tekun", "edge": "edge", "expenditure": "expenditure", "monitor": "monitor",
		"male": "male", "female": "female", "lang_other": "中文",
		"d.ratio": "out-of-pocket ÷ per-capita income", "d.bracket": "bracket", "d.recommended_max": "recommended maximum (yuan)",
		"d.approval": "approval level", "d.oop_12m": "out-of-pocket, 12 months (yuan)", "d.annual_income": "annual income (yuan)",
		"d.member_count": "members", "d.per_capita_after_oop": "per-capita income after medical costs (yuan)",
		"d.annual_standard": "annual dibao standard (yuan)", "d.tier": "tier", "d.level": "disability level", "d.diagnoses": "diagnoses",
		"d.status": "school status", "d.members": "members", "d.signals": "hardship signals", "d.types": "hardship types", "lang_other_code": "zh", "not_found": "No such alert",
		"review": "Pairs to review", "review_hint": "These records have no usable ID and the model is unsure they are the registry person beside them: compare and decide.", "decided": "Decision recorded:",
		"probability": "match probability", "id_contradicted": "the ID and the person in the record disagree", "id_is_of": "The ID is", "id_record_says": "'s; the record says", "registry_person": "Registry person", "note": "Note", "same_person": "Same person", "not_same_person": "Not the same person",
		"nothing_review": "Nothing waits for review", "form_expired": "The form has expired: send it again",
		"too_many_attempts": "Too many failed attempts: try again in 15 minutes",
		"my_tasks":          "My visits", "outcome_saved": "Outcome saved", "no_tasks": "No visits to make", "what_to_check": "What to check:", "save_outcome": "Save the outcome",
		"t.open": "to visit", "t.done": "visited", "t.cancelled": "cancelled",
		"outcome": "Visit outcome", "history": "History", "a.dispatch": "Dispatch a visit", "a.visit": "Record the visit", "a.resolve": "Resolve", "a.dismiss": "Dismiss", "a.reopen": "Reopen",
		"o.assisted_application": "assisted the application", "o.already_receiving": "already receiving help", "o.not_eligible": "not eligible", "o.not_found": "not found", "o.refused": "refused", "o.other": "other",
		"link": "Linked by", "m.id_exact": "same ID number", "m.id_repaired": "ID number one typo off, same name", "m.id_completed": "same ID (the registry's copy stored by Excel as a number)", "m.probabilistic": "probabilistic match",
		"m.reviewed": "confirmed by a person", "m.review": "waiting for review", "m.id_outside_registry": "outside the registry (ID number)", "m.unlinked": "not linked",
		"due.overdue": "overdue", "due.24h": "due within 24 hours", "due.7d": "due within 7 days", "county_queue": "county queue",
		"export_xlsx": "Export to Excel", "prev_page": "previous", "next_page": "next", "counts": "Counts", "total": "total", "open": "open",
		"audit": "Audit log", "time": "time", "action": "action", "from": "from", "to": "to",
		"task_queue": "Visit task queue", "assigned": "Task assigned:", "task_sheet": "Offline task sheet", "township_queue": "township queue",
		"upload_sheet": "Upload a filled-in task sheet", "download_sheet": "Download the task sheet (Excel)", "upload": "Upload", "task": "task", "assignee": "assigned to", "assign": "Assign",
		"e.operators_only": "This page is for operators and administrators", "e.admins_only": "This page is for administrators", "e.sheets_only": "Task sheets are for grid workers and operators", "e.form_expired": "The form has expired or did not come from this site: reload the page and try again",
		"analytics": "Analytics", "e.analysts_only": "This page is for analysts", "e.internal": "Something went wrong: try again later, and tell an administrator if it goes on", "e.back_home": "Back to my work",
		"e.no_snapshot": "No analytic snapshot yet: every run publishes one (once the pseudonym key variable is set)", "e.no_cohort": "No such cohort", "e.cohort_failed": "The cohort could not be counted: check its definition",
		"e.sql_record_level": "A cohort written as SQL needs the record-level analyst role", "e.record_level_only": "This needs the record-level analyst role (record_analyst)", "e.query_failed": "The query did not run", "e.bad_format": "Not an export format",
		"funnel": "The policy-finds-people funnel", "funnel_by_rule": "By rule", "funnel_by_region": "By township", "funnel_by_month": "By month raised", "f.raised": "alerts raised", "f.dispatched": "dispatched", "f.visited": "visited", "f.in_time": "visited in time",
		"f.helped": "helped to apply", "f.changed": "enrolled or benefit changed", "f.median_hours": "median hours to the visit", "small_note": "counts below %d show as <%[1]d, counts that would reveal them as ×",
		"by_id_county": " (outside the registry, by the county of the ID)", "count": "count", "by_month": "by month", "by_region": "By region", "month": "month", "region_name": "region", "cohort_version": "cohort version",
		"snapshot": "Snapshot", "discovery_share": "found outside the registry, then enrolled", "cohorts": "Cohorts", "new_cohort": "New cohort", "sql_page": "SQL", "version": "version", "author": "author",
		"no_cohorts": "No cohorts saved yet", "made_by": "Made by", "cohort": "cohort", "all_regions": "All regions", "versions": "Versions", "edit_cohort": "Edit the cohort (saved as a new version)",
		"unit": "Count", "u.person": "persons", "u.household": "households", "membership": "Who", "ms.registry": "registry members", "ms.outside": "outside the registry (found in the data)", "ms.both": "both",
		"region_pick": "Region", "person_filters": "Persons", "age_from": "age from", "age_to": "age to", "size_from": "household size from", "size_to": "household size to", "signals_12m": "Hardship signals in the last 12 months (any)",
		"s.severe_disability": "severe disability", "s.serious_illness": "serious illness", "s.severe_mental_disorder": "severe mental disorder", "s.dropout_child": "child out of school", "s.death": "death",
		"oop_at_least": "out-of-pocket medical costs in 12 months at least (yuan)", "alerts_filter": "Alerts (rule, state, visit outcome)", "period": "Period", "last_months": "the last months:", "cohort_sql": "Or as SQL (returning month, village and person or household)",
		"save_cohort": "Save the cohort", "sql_limits": "at most %d rows shown, %s, %s of memory per query; every query is in the audit log", "views": "The analyst views", "run": "Run", "download": "Download", "truncated": "the first rows only: download for all",
		"role.admin": "administrator", "role.operator": "operator", "role.gridworker": "grid worker", "role.analyst": "analyst (aggregates)", "role.record_analyst": "analyst (records)",
		"sheet_taken": "Recorded", "result": "result", "r.taken": "recorded", "r.refused": "refused", "r.skipped": "not filled in",
	},
}

// lang picks the language of a request and remembers a choice.
func lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "zh" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "zh" || c.Value == "en") {
		return c.Value
	}
	return "zh"
}

// langOf is the language a translator speaks.
func langOf(t func(string) string) string {
	if t("lang_other_code") == "zh" {
		return "en"
	}
	return "zh"
}

// translator returns the word for key, or the key itself.
func translator(l string) func(string) string {
	return func(key string) string {
		if v, ok := messages[l][key]; ok {
			return v
		}
		return strings.TrimPrefix(key, "d.") // a detail of a rule of one's own: its own name

	}
}
