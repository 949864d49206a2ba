package main

// Working-day figures of the high-voltage commitments, all counted from the
// acceptance (受理) that opens each window, as State Grid measures them
// (业扩报装服务时限考核: 供电方案答复 自受理客户申请之日起 单电源 ≤15、
// 双电源 ≤30; 设计审核 自受理之日起 ≤10; 中间检查 自接到客户申请之日起 ≤5;
// 竣工检验 自受理之日起 ≤5; 装表接电 自受电装置检验合格并办结相关手续之日起
// ≤5 — the figures issue 3 asks for). Each window is a sub-process (or the
// single step) carrying a non-interrupting business-time timer; the due
// dates of the steps inside split the window between them and add up to it.
const (
	schemeWindow = "${supply == 'dual' ? 'P30D' : 'P15D'}"
	designWindow = "P10D"
	midWindow    = "P5D"
	doneWindow   = "P5D"
	meterWindow  = "P5D"
)

func gaoyaXinzhuang() *process {
	accept := user("accept_application", "受理客户用电申请",
		"营业厅（或线上渠道）受理客户新装、增容用电申请：查验申请资料，录入客户信息，确认申请容量和供电电源数（单电源或双电源）。"+
			"受理即开始计算供电方案答复时限。",
		task{
			Groups:    "clerk",
			Due:       "P1D",
			NextSteps: "您的用电申请已受理。客户经理将与您预约现场查勘；供电方案自受理之日起，单电源客户15个工作日、双电源客户30个工作日内答复。",
			Materials: "用电申请书（高压客户用电登记表）；用电人主体资格证明（营业执照或统一社会信用代码证书、法定代表人身份证明）；" +
				"经办人身份证及授权委托书；用电地址产权证明（不动产权证书、土地使用证明或租赁合同）；" +
				"项目立项批复、核准或备案文件（按规定需要时）；用电设备清单及负荷性质说明；重要电力用户的保安负荷说明",
			Fields: []field{
				{ID: "customerName", Label: "客户名称", Type: "string", Required: true},
				{ID: "usageAddress", Label: "用电地址", Type: "string", Required: true},
				{ID: "applyType", Label: "业务类型", Type: "enum", Values: "新装, 增容", Required: true},
				{ID: "capacityKva", Label: "申请容量（kVA）", Type: "long", Required: true},
				{ID: "supply", Label: "供电电源数（single 单电源，dual 双电源）", Type: "enum", Values: "single, dual", Required: true},
				{ID: "importantUser", Label: "重要电力用户", Type: "boolean", Required: true},
				{ID: "contactName", Label: "联系人", Type: "string", Required: true},
				{ID: "contactPhone", Label: "联系电话", Type: "string", Required: true},
			},
		})
	accept.Comment = "P1D on 受理: our own target (register an application the working day after it arrives); no State Grid figure."

	schemeWin := sub("scheme_window", "供电方案答复（单电源15／双电源30个工作日）",
		"供电方案答复时限：自受理客户申请之日起，高压单电源客户不超过15个工作日，双电源客户不超过30个工作日（国家电网公司供电服务承诺及业扩报装服务时限）。",
		&node{ID: "scheme_window_start", Kind: kindStart},
		user("survey_dispatch", "现场查勘派工", "指定客户经理（查勘人员）并与客户约定现场查勘时间。",
			task{
				Groups:    "dispatcher",
				Due:       "P1D",
				NextSteps: "正在为您安排客户经理现场查勘，届时将电话与您预约时间，请保持电话畅通。",
				Materials: "查勘时请安排熟悉现场的人员陪同，并备好用电总平面图和主要用电设备清单",
				Fields: []field{
					{ID: "surveyor", Label: "查勘人员（用户名）", Type: "string", Required: true},
					{ID: "surveyDate", Label: "预约查勘日期", Type: "date", Required: true},
				},
			}),
		user("survey_and_draft_scheme", "查勘并拟定供电方案",
			"现场核实用电地址、用电容量、负荷性质和周边电网条件，拟定供电电源点、供电电压、接入方式、计量方式及受电工程建设要求。",
			task{
				Groups:    "technician",
				Assignee:  "${surveyor}",
				Due:       "${supply == 'dual' ? 'P20D' : 'P9D'}",
				NextSteps: "客户经理正在根据现场查勘情况拟定供电方案，方案经审核后答复您。",
				Fields: []field{
					{ID: "voltageLevel", Label: "供电电压", Type: "enum", Values: "10kV, 20kV, 35kV, 110kV", Required: true},
					{ID: "supply", Label: "供电电源数（single 单电源，dual 双电源）", Type: "enum", Values: "single, dual", Required: true},
					{ID: "schemeSummary", Label: "供电方案要点（电源点、接入方式、计量方式）", Type: "string", Required: true},
					{ID: "surveyRecord", Label: "现场查勘记录", Type: "string", Required: false},
				},
			}),
		user("scheme_review", "供电方案审核", "审核供电方案的电源点、供电能力、接入方式和计量方式是否合理、合规；不通过的退回重新拟定。",
			task{
				Groups:    "manager",
				Due:       "${supply == 'dual' ? 'P6D' : 'P3D'}",
				NextSteps: "供电方案正在审核，审核通过后将向您答复供电方案。",
				Fields: []field{
					{ID: "schemeApproved", Label: "审核通过", Type: "boolean", Required: true},
					{ID: "schemeOpinion", Label: "审核意见", Type: "string", Required: true},
				},
			}),
		xor("scheme_review_ok", "审核通过？"),
		user("scheme_reply", "供电方案答复",
			"向客户送达《供电方案答复单》，说明供电方案内容、方案有效期和受电工程设计要求，请客户签收。",
			task{
				Groups:    "clerk",
				Due:       "${supply == 'dual' ? 'P3D' : 'P2D'}",
				NextSteps: "请签收《供电方案答复单》，并在方案有效期内自主委托具备相应资质的设计单位进行受电工程设计；设计完成后向营业厅报送设计文件审核。",
				Materials: "报送设计文件审核时需提供：" + designMaterials,
				Fields:    replyFields("客户已签收供电方案答复单"),
			}),
		&node{ID: "scheme_window_end", Kind: kindEnd},
	)
	schemeWin.Comment = "Window 供电方案答复: 15 working days for single supply, 30 for dual, from acceptance (State Grid). Split 1+9+3+2 / 1+20+6+3."

	acceptDrawings := user("accept_drawings", "受理图纸审查",
		"接收客户报送的受电工程设计文件，核对资料齐全后受理；设计文件审核时限自受理之日起计算。本环节等待客户报审，不设时限。",
		task{
			Groups:    "clerk",
			NextSteps: "设计文件受理后，将在10个工作日内答复审核意见。",
			Materials: designMaterials,
			Fields: []field{
				{ID: "designUnit", Label: "设计单位", Type: "string", Required: true},
				{ID: "designLicense", Label: "设计资质证书编号", Type: "string", Required: true},
				{ID: "drawingsSubmittedOn", Label: "报审日期", Type: "date", Required: true},
			},
		})

	designWin := sub("design_review_window", "设计文件审核（10个工作日）",
		"设计文件审核时限：自受理之日起，高压客户不超过10个工作日（国家电网公司业扩报装服务时限）。",
		&node{ID: "design_review_window_start", Kind: kindStart},
		user("drawing_review_dispatch", "图纸审查派工", "指定审图人员。",
			task{
				Groups:    "dispatcher",
				Due:       "P1D",
				NextSteps: "正在安排审图人员审核您的设计文件。",
				Fields: []field{
					{ID: "drawingReviewer", Label: "审图人员（用户名）", Type: "string", Required: true},
				},
			}),
		user("drawing_review", "图纸审查", "依据答复的供电方案和国家、行业标准审核受电工程设计文件，一次性提出全部修改意见。",
			task{
				Groups:    "technician",
				Assignee:  "${drawingReviewer}",
				Due:       "P7D",
				NextSteps: "审图人员正在审核您的设计文件，审核完成后出具《受电工程设计文件审核意见单》。",
				Fields: []field{
					{ID: "drawingApproved", Label: "审查合格", Type: "boolean", Required: true},
					{ID: "drawingOpinion", Label: "审查意见", Type: "string", Required: true},
				},
			}),
		user("drawing_reply", "审图答复", "向客户送达《受电工程设计文件审核意见单》：合格的告知按审定图纸施工；不合格的一次性告知修改意见。",
			task{
				Groups:    "clerk",
				Due:       "P2D",
				NextSteps: "审核合格：请按审定的图纸委托具备承装（修、试）电力设施许可证的施工单位施工，隐蔽工程隐蔽前申请中间检查。审核不合格：请按审核意见修改设计后重新报审。",
				Materials: "申请中间检查时需提供：" + midCheckMaterials,
				Fields:    replyFields("客户已签收设计文件审核意见单"),
			}),
		&node{ID: "design_review_window_end", Kind: kindEnd},
	)
	designWin.Comment = "Window 设计审核: 10 working days from acceptance of the drawings (State Grid). Split 1+7+2."

	acceptMid := user("accept_mid_check", "受理中间检查",
		"受理客户的中间检查申请（隐蔽工程隐蔽前）；中间检查时限自接到申请之日起计算。本环节等待客户报验，不设时限。",
		task{
			Groups:    "clerk",
			NextSteps: "中间检查申请受理后，将在5个工作日内完成现场检查并答复意见。",
			Materials: midCheckMaterials,
			Fields: []field{
				{ID: "constructionUnit", Label: "施工单位", Type: "string", Required: true},
				{ID: "constructionLicense", Label: "承装（修、试）电力设施许可证编号", Type: "string", Required: true},
				{ID: "midCheckSubmittedOn", Label: "报验日期", Type: "date", Required: true},
			},
		})

	midWin := sub("mid_check_window", "中间检查（5个工作日）",
		"中间检查时限：自接到客户申请之日起，高压客户不超过5个工作日（国家电网公司业扩报装服务时限）。",
		&node{ID: "mid_check_window_start", Kind: kindStart},
		user("mid_check", "中间检查", "在隐蔽工程隐蔽前到现场检查电缆通道、接地装置、配电室土建等是否符合审定的设计和规范。",
			task{
				Groups:    "technician",
				Due:       "P4D",
				NextSteps: "检查人员将与您预约现场中间检查时间，请施工单位负责人到场配合。",
				Materials: "检查时请备好施工记录、隐蔽工程影像资料和主要材料合格证",
				Fields: []field{
					{ID: "midCheckPassed", Label: "检查合格", Type: "boolean", Required: true},
					{ID: "midCheckOpinion", Label: "检查意见", Type: "string", Required: true},
				},
			}),
		user("mid_check_reply", "中间检查意见答复", "向客户送达《受电工程中间检查意见单》；不合格的一次性告知整改意见。",
			task{
				Groups:    "clerk",
				Due:       "P1D",
				NextSteps: "检查合格：请继续施工，工程竣工后申请竣工检验。检查不合格：请按《受电工程中间检查意见单》整改后重新申请中间检查。",
				Materials: "申请竣工检验时需提供：" + completionMaterials,
				Fields:    replyFields("客户已签收中间检查意见单"),
			}),
		&node{ID: "mid_check_window_end", Kind: kindEnd},
	)
	midWin.Comment = "Window 中间检查: 5 working days from the customer's request (State Grid). Split 4+1."

	acceptDone := user("accept_completion", "受理客户工程竣工验收报验",
		"受理客户受电工程竣工报验，核对竣工资料齐全；竣工检验时限自受理之日起计算。本环节等待客户报验，不设时限。",
		task{
			Groups:    "clerk",
			NextSteps: "竣工报验受理后，将在5个工作日内完成竣工检验并答复意见。",
			Materials: completionMaterials,
			Fields: []field{
				{ID: "completionSubmittedOn", Label: "报验日期", Type: "date", Required: true},
				{ID: "documentsComplete", Label: "竣工资料齐全", Type: "boolean", Required: true},
			},
		})

	doneWin := sub("completion_window", "竣工检验（5个工作日）",
		"竣工检验时限：自受理之日起，高压客户不超过5个工作日（国家电网公司业扩报装服务时限）。",
		&node{ID: "completion_window_start", Kind: kindStart},
		user("completion_dispatch", "工程竣工验收派工", "指定竣工验收负责人并与客户约定验收时间。",
			task{
				Groups:    "dispatcher",
				Due:       "P1D",
				NextSteps: "正在安排竣工验收人员，届时将与您预约验收时间。",
				Fields: []field{
					{ID: "acceptanceLead", Label: "验收负责人（用户名）", Type: "string", Required: true},
					{ID: "acceptanceDate", Label: "预约验收日期", Type: "date", Required: true},
				},
			}),
		user("completion_acceptance", "竣工验收",
			"会同相关专业现场验收受电工程：设备与审定图纸一致，交接试验合格，保护定值正确，安全措施和运行管理条件完备。",
			task{
				Groups:    "technician",
				Assignee:  "${acceptanceLead}",
				Due:       "P3D",
				NextSteps: "验收人员将到现场验收，请施工单位和运行值班人员到场配合。",
				Materials: "验收时请在现场备好竣工资料原件、安全工器具，并安排运行值班人员到场",
				Fields: []field{
					{ID: "acceptancePassed", Label: "验收合格", Type: "boolean", Required: true},
					{ID: "acceptanceOpinion", Label: "验收意见", Type: "string", Required: true},
				},
			}),
		user("acceptance_reply", "验收意见答复", "向客户送达《受电工程竣工检验意见单》；不合格的一次性告知整改意见。",
			task{
				Groups:    "clerk",
				Due:       "P1D",
				NextSteps: "验收合格：请签订供用电合同，合同办结后安排装表接电。验收不合格：请按《受电工程竣工检验意见单》整改后重新报验。",
				Materials: "签订供用电合同时需提供：" + contractMaterials,
				Fields:    replyFields("客户已签收竣工检验意见单"),
			}),
		&node{ID: "completion_window_end", Kind: kindEnd},
	)
	doneWin.Comment = "Window 竣工检验: 5 working days from acceptance of the completion report (State Grid). Split 1+3+1."

	contract := user("draft_contract", "拟订供用电合同",
		"依据审定的供电方案拟订《高压供用电合同》及其附件（产权分界、电费结算、调度协议等），并指定会签人：完成时提交 countersigners（会签人用户名列表）。",
		task{
			Groups:    "clerk",
			NextSteps: "正在拟订供用电合同，内部会签完成后请您签字盖章。",
			Materials: contractMaterials,
			Fields: []field{
				{ID: "contractNo", Label: "合同编号", Type: "string", Required: true},
				{ID: "contractYears", Label: "合同有效期（年）", Type: "long", Required: true},
				{ID: "propertyBoundary", Label: "产权分界点", Type: "string", Required: true},
			},
		})
	contract.Comment = "No deadline on the contract steps: they are part of 办结相关手续 before the 装表接电 clock starts."

	countersign := user("contract_countersign", "供用电合同会签",
		"各会签人（营销、运检、调控等相关部门负责人）并行会签供用电合同；全部同意即通过，任一人不同意即结束会签并退回修改。",
		task{
			Groups:    "manager",
			Assignee:  "${countersigner}",
			NextSteps: "供用电合同正在内部会签，会签完成后将通知您签订合同，并安排装表接电。",
			Fields: []field{
				{ID: "countersignAgree", Label: "同意", Type: "boolean", Required: true},
				{ID: "countersignOpinion", Label: "会签意见", Type: "string", Required: false},
			},
			Countersign: &countersign{
				Collection:          "${countersigners}",
				ElementVariable:     "countersigner",
				CompletionCondition: "${countersignAgree == false || nrOfCompletedInstances == nrOfInstances}",
			},
		})

	meter := user("metering_ticket", "生成装表工作票",
		"生成装表接电工作票并派发装表接电班组；班组完成电能表安装、送电后回单，本环节办结。装表接电时限自受电装置检验合格并办结相关手续之日起计算。",
		task{
			Groups:    "dispatcher",
			Due:       meterWindow,
			NextSteps: "装表接电人员将与您预约装表送电时间，请安排运行值班人员到场；送电后请核对电能表起度。",
			Materials: "送电前请确认受电设施已具备送电条件，运行值班人员和安全工器具到位",
			Fields: []field{
				{ID: "ticketNo", Label: "装表工作票编号", Type: "string", Required: true},
				{ID: "meterAssetNo", Label: "电能表资产编号", Type: "string", Required: true},
				{ID: "energizedOn", Label: "送电日期", Type: "date", Required: true},
			},
		})
	meter.Comment = "装表接电: 5 working days from passing inspection and completing the formalities (State Grid); one step, so its due date is the whole window."

	archive := user("archive", "完整归档",
		"核对全过程资料（申请资料、供电方案答复单、设计审核、中间检查和竣工检验意见单、供用电合同、装表工作票）并归档。",
		task{
			Groups:    "clerk",
			NextSteps: "已送电，业务资料正在归档。感谢您的支持。",
			Fields:    archiveFields(),
		})

	p := &process{
		File: "gaoya-xinzhuang.bpmn", Key: "gaoya_xinzhuang", Name: "高压新装/增容",
		Doc: "高压新装、增容业扩报装：从受理客户用电申请到装表接电、完整归档的20个环节（《业扩流程管家系统的开发与应用》4.2节），" +
			"含审核不通过、检查或验收不合格、会签不同意时的退回与重新报审，以及国家电网公司业扩报装服务时限（工作日）和超期督办。",
		Comment: "Generated by internal/flow/templates/gen (go generate ./internal/flow/templates). Edit the generator, not this file.",
		Rows: [][]*node{
			{start("start", "收到用电申请"), accept, schemeWin},
			{acceptDrawings, designWin, xor("drawing_review_ok", "审图合格？"), acceptMid, midWin, xor("mid_check_ok", "检查合格？")},
			{acceptDone, doneWin, xor("acceptance_ok", "验收合格？"), contract, countersign, xor("countersign_ok", "会签通过？"),
				meter, archive, end("end", "归档办结")},
		},
		Deadlines: []deadline{
			watch(schemeWin, schemeWindow, "供电方案答复超过承诺时限（单电源15、双电源30个工作日）", escalation("overdue_scheme", "供电方案答复")),
			watch(designWin, designWindow, "设计文件审核超过承诺时限（10个工作日）", escalation("overdue_design_review", "设计文件审核")),
			watch(midWin, midWindow, "中间检查超过承诺时限（5个工作日）", escalation("overdue_mid_check", "中间检查")),
			watch(doneWin, doneWindow, "竣工检验超过承诺时限（5个工作日）", escalation("overdue_completion", "竣工检验")),
			watch(meter, meterWindow, "装表接电超过承诺时限（5个工作日）", escalation("overdue_metering", "装表接电")),
		},
	}
	p.Flows = concat(
		chain("start", "accept_application", "scheme_window", "accept_drawings", "design_review_window", "drawing_review_ok"),
		chain("scheme_window_start", "survey_dispatch", "survey_and_draft_scheme", "scheme_review", "scheme_review_ok"),
		[]flow{
			when("scheme_review_ok", "scheme_reply", "通过", "${schemeApproved}"),
			otherwise("scheme_review_ok", "survey_and_draft_scheme", "不通过，退回重新拟定"),
			link("scheme_reply", "scheme_window_end"),
		},
		chain("design_review_window_start", "drawing_review_dispatch", "drawing_review", "drawing_reply", "design_review_window_end"),
		[]flow{
			when("drawing_review_ok", "accept_mid_check", "合格", "${drawingApproved}"),
			otherwise("drawing_review_ok", "accept_drawings", "不合格：客户修改设计后重新报审"),
		},
		chain("accept_mid_check", "mid_check_window", "mid_check_ok"),
		chain("mid_check_window_start", "mid_check", "mid_check_reply", "mid_check_window_end"),
		[]flow{
			when("mid_check_ok", "accept_completion", "合格", "${midCheckPassed}"),
			otherwise("mid_check_ok", "accept_mid_check", "不合格：整改后重新申请中间检查"),
		},
		chain("accept_completion", "completion_window", "acceptance_ok"),
		chain("completion_window_start", "completion_dispatch", "completion_acceptance", "acceptance_reply", "completion_window_end"),
		[]flow{
			when("acceptance_ok", "draft_contract", "合格", "${acceptancePassed}"),
			otherwise("acceptance_ok", "accept_completion", "不合格：整改后重新报验"),
		},
		chain("draft_contract", "contract_countersign", "countersign_ok"),
		[]flow{
			when("countersign_ok", "metering_ticket", "通过", "${countersignAgree}"),
			otherwise("countersign_ok", "draft_contract", "有会签人不同意：退回修改合同"),
		},
		chain("metering_ticket", "archive", "end"),
	)
	return p
}
