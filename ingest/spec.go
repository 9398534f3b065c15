package ingest

// Kind is how a column's text is read into a value.
type Kind int

const (
	Text  Kind = iota
	ID         // a resident ID as sent: kept raw, only checked for impossible characters
	Date       // DATE
	Money      // yuan, DOUBLE in staging, DECIMAL(14,2) when stored
	Int        // INTEGER
	Sex        // "male" / "female"
	Enum       // one of Column.Values' canonical values
	Level      // disability level 1–4
	Phone      // digits only
)

// Column is one canonical column and the header names it is known by.
type Column struct {
	Name     string
	Kind     Kind
	Required bool
	Aliases  []string
	Values   map[string]string // Enum: accepted text → canonical value
}

// Table is what one kind of department file holds.
type Table struct {
	Name    string // the view name: households, members, education, …
	Source  string // the inbox folder it arrives in
	Columns []Column
	// Key lists the columns that identify a record; empty means record_id,
	// and a row with no key is keyed by its content.
	Key []string
	// Supersede, for a table whose key holds its own values (a member is
	// household + ID + name), names the column that groups records (the
	// household) and the columns of which one agreeing is enough for a
	// delivered record to replace a current one of the group under another
	// key: a member whose ID the registry corrected (same name), or whose
	// name it corrected (same ID), stays one member. Records a delivery
	// does not mention are kept: a corrections file lists only what changed.
	Supersede *Supersede
}

// Supersede is how a delivered record replaces a current one whose key changed.
type Supersede struct {
	Group string
	Same  []string
}

// CanonTable is the table holding every version of the records.
func (t *Table) CanonTable() string { return "canon_" + t.Name }

// columnIndex is the place of the named column in Columns, or -1.
func (t *Table) columnIndex(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

var person = []Column{
	{Name: "id_number", Kind: ID, Aliases: []string{"身份证号", "公民身份号码", "证件号码", "身份证号码", "身份证", "idnumber", "id_no", "idcard"}},
	{Name: "name", Kind: Text, Aliases: []string{"姓名", "名字"}},
	{Name: "sex", Kind: Sex, Aliases: []string{"性别", "gender"}},
	{Name: "birth_date", Kind: Date, Aliases: []string{"出生日期", "出生年月日", "dob", "birthdate"}},
}

// required returns a copy of cols with the named columns required.
func required(cols []Column, names ...string) []Column {
	out := append([]Column(nil), cols...)
	for i := range out {
		for _, n := range names {
			if out[i].Name == n {
				out[i].Required = true
			}
		}
	}
	return out
}

func withPerson(first Column, rest ...Column) []Column {
	cols := append([]Column{first}, person...)
	return append(cols, rest...)
}

var householdID = Column{Name: "household_id", Kind: Text, Required: true, Aliases: []string{"户编号", "家庭编号", "户号"}}

// Tables are the tables of SOURCES.md.
var Tables = []*Table{
	{
		Name: "households", Source: "registry", Key: []string{"household_id"},
		Columns: []Column{
			householdID,
			{Name: "tier", Kind: Enum, Required: true, Aliases: []string{"保障类别", "救助类别", "人员类别"}, Values: map[string]string{
				"dibao": "dibao", "低保": "dibao", "城乡低保": "dibao", "城市低保": "dibao", "农村低保": "dibao", "低保户": "dibao",
				"tekun": "tekun", "特困": "tekun", "特困供养": "tekun", "特困人员": "tekun",
				"edge": "edge", "低保边缘": "edge", "低保边缘家庭": "edge",
				"expenditure": "expenditure", "支出型困难": "expenditure", "支出型困难家庭": "expenditure",
				"monitor": "monitor", "监测对象": "monitor", "防止返贫监测": "monitor", "其他监测对象": "monitor"}},
			{Name: "region_code", Kind: Text, Required: true, Aliases: []string{"行政区划代码", "区划代码"}},
			{Name: "grid_code", Kind: Text, Aliases: []string{"网格编号", "网格"}},
			{Name: "address", Kind: Text, Aliases: []string{"家庭住址", "地址"}},
			{Name: "annual_income", Kind: Money, Aliases: []string{"家庭年收入", "年收入"}},
			{Name: "member_count", Kind: Int, Aliases: []string{"家庭人口", "家庭人数", "户人数"}},
			{Name: "monthly_benefit", Kind: Money, Aliases: []string{"月保障金额", "月救助金"}},
			{Name: "status", Kind: Enum, Aliases: []string{"状态"}, Values: map[string]string{
				"active": "active", "在保": "active", "正常": "active", "terminated": "terminated", "停保": "terminated", "退出": "terminated"}},
			{Name: "enrolled_on", Kind: Date, Aliases: []string{"纳入日期", "认定日期"}},
		},
	},
	{
		Name: "members", Source: "registry", Key: []string{"household_id", "id_number", "name"},
		Supersede: &Supersede{Group: "household_id", Same: []string{"name", "id_number"}},
		Columns: append(append([]Column{householdID}, required(person, "name")...),
			Column{Name: "relation", Kind: Text, Aliases: []string{"与户主关系"}},
			Column{Name: "phone", Kind: Phone, Aliases: []string{"联系电话", "手机号", "电话"}}),
	},
	{
		Name: "education", Source: "education",
		Columns: withPerson(Column{Name: "record_id", Kind: Text, Aliases: []string{"记录编号", "学籍号"}},
			Column{Name: "school", Kind: Text, Aliases: []string{"学校名称", "学校"}},
			Column{Name: "grade", Kind: Text, Aliases: []string{"年级"}},
			Column{Name: "status", Kind: Enum, Required: true, Aliases: []string{"学籍状态", "在校状态"}, Values: map[string]string{
				"在校": "enrolled", "enrolled": "enrolled", "休学": "suspended", "suspended": "suspended",
				"辍学": "dropped_out", "dropped_out": "dropped_out", "毕业": "graduated", "graduated": "graduated",
				"转出": "transferred", "transferred": "transferred"}},
			Column{Name: "event_date", Kind: Date, Required: true, Aliases: []string{"变动日期", "日期"}},
			Column{Name: "aid_amount", Kind: Money, Aliases: []string{"资助金额"}}),
	},
	{
		Name: "health", Source: "health",
		Columns: withPerson(Column{Name: "record_id", Kind: Text, Aliases: []string{"记录编号", "病案号"}},
			Column{Name: "event_type", Kind: Enum, Required: true, Aliases: []string{"类型", "事件类型"}, Values: map[string]string{
				"住院": "admission", "入院": "admission", "admission": "admission", "出院": "discharge", "discharge": "discharge",
				"门诊": "outpatient", "outpatient": "outpatient", "死亡": "death", "death": "death",
				"严重精神障碍": "severe_mental_disorder", "severe_mental_disorder": "severe_mental_disorder"}},
			Column{Name: "event_date", Kind: Date, Required: true, Aliases: []string{"日期", "入院日期", "死亡日期"}},
			Column{Name: "diagnosis_code", Kind: Text, Aliases: []string{"诊断编码", "icd编码"}},
			Column{Name: "diagnosis_name", Kind: Text, Aliases: []string{"诊断名称", "疾病名称"}},
			Column{Name: "hospital", Kind: Text, Aliases: []string{"医疗机构", "医院"}}),
	},
	{
		Name: "medins", Source: "medins",
		Columns: withPerson(Column{Name: "record_id", Kind: Text, Aliases: []string{"结算编号", "结算流水号"}},
			Column{Name: "visit_type", Kind: Enum, Aliases: []string{"就诊类型", "医疗类别"}, Values: map[string]string{
				"门诊": "outpatient", "outpatient": "outpatient", "住院": "inpatient", "inpatient": "inpatient"}},
			Column{Name: "settle_date", Kind: Date, Required: true, Aliases: []string{"结算日期"}},
			Column{Name: "total_cost", Kind: Money, Aliases: []string{"医疗总费用", "总费用"}},
			Column{Name: "fund_paid", Kind: Money, Aliases: []string{"统筹支付", "基金支付"}},
			Column{Name: "out_of_pocket", Kind: Money, Required: true, Aliases: []string{"个人自付", "个人负担", "自付金额"}},
			Column{Name: "diagnosis_code", Kind: Text, Aliases: []string{"诊断编码"}}),
	},
	{
		Name: "disability", Source: "disability",
		Columns: withPerson(Column{Name: "record_id", Kind: Text, Aliases: []string{"残疾证号"}},
			Column{Name: "disability_type", Kind: Enum, Aliases: []string{"残疾类别"}, Values: map[string]string{
				"视力": "visual", "视力残疾": "visual", "visual": "visual", "听力": "hearing", "听力残疾": "hearing", "hearing": "hearing",
				"言语": "speech", "言语残疾": "speech", "speech": "speech", "肢体": "physical", "肢体残疾": "physical", "physical": "physical",
				"智力": "intellectual", "智力残疾": "intellectual", "intellectual": "intellectual", "精神": "mental", "精神残疾": "mental", "mental": "mental",
				"多重": "multiple", "多重残疾": "multiple", "multiple": "multiple"}},
			Column{Name: "level", Kind: Level, Required: true, Aliases: []string{"残疾等级"}},
			Column{Name: "issued_on", Kind: Date, Required: true, Aliases: []string{"发证日期"}},
			Column{Name: "change", Kind: Enum, Aliases: []string{"变动类型"}, Values: map[string]string{
				"新办": "new", "new": "new", "变更": "changed", "changed": "changed", "注销": "revoked", "revoked": "revoked"}}),
	},
}

// TablesOf returns the tables that arrive in a source's inbox.
func TablesOf(source string) []*Table {
	var ts []*Table
	for _, t := range Tables {
		if t.Source == source {
			ts = append(ts, t)
		}
	}
	return ts
}

// TableNamed is the table of that name (households, medins, …), or nil.
func TableNamed(name string) *Table {
	for _, t := range Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}
