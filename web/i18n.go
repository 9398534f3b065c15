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

// translator returns the word for key, or the key itself.
func translator(l string) func(string) string {
	return func(key string) string {
		if v, ok := messages[l][key]; ok {
			return v
		}
		return strings.TrimPrefix(key, "d.") // a detail of a rule of one's own: its own name

	}
}
