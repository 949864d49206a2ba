package main

// What the customer brings to each kind of step, shared by the variants.
// The lists follow the documents the 供电营业规则 and State Grid's 业扩
// practice ask for at each stage.
const (
	designMaterials = "设计单位资质证明材料；受电工程设计图纸及设计说明书（一式两份）；高压受电装置一、二次接线图与平面布置图；" +
		"用电负荷分布图；负荷组成、性质及保安负荷说明；影响电能质量的用电设备清单；主要电气设备一览表；" +
		"用电功率因数计算及无功补偿方式；继电保护、过电压保护及电能计量装置的配置方式；隐蔽工程设计资料；" +
		"配电网络布置图；自备应急电源及接线方式（如有）"

	midCheckMaterials = "施工单位资质证明（承装（修、试）电力设施许可证）；审定的设计图纸及设计文件审核意见单；施工进度安排；" +
		"隐蔽工程施工及试验记录；电缆通道、接地装置等隐蔽部分的影像资料"

	completionMaterials = "竣工报告；竣工图；电气设备交接试验报告；继电保护装置整定及调试记录；设备清单及主要设备出厂合格证、技术资料；" +
		"隐蔽工程施工及试验记录；接地电阻测试报告；安全工器具试验合格证明；" +
		"运行管理制度及持有特种作业操作证（电工）的运行值班人员名单"

	contractMaterials = "法定代表人身份证明，或授权委托书及受托人身份证；单位公章或合同专用章；电费结算账户及开票信息；" +
		"调度协议所需资料（需要时）"

	lowVoltageCompletionMaterials = "受电工程竣工报告；施工单位资质证明；计量表箱及进户线安装完成情况说明；电气试验报告（需要时）；用电设备清单"
)

// Form fields several steps share.
func replyFields(signedLabel string) []field {
	return []field{
		{ID: "replyDate", Label: "答复日期", Type: "date", Required: true},
		{ID: "replyMethod", Label: "答复方式", Type: "enum", Values: "当面送达, 邮寄, 线上推送", Required: true},
		{ID: "customerSigned", Label: signedLabel, Type: "boolean", Required: true},
	}
}

func archiveFields() []field {
	return []field{
		{ID: "archiveNo", Label: "档案编号", Type: "string", Required: true},
		{ID: "archivedOn", Label: "归档日期", Type: "date", Required: true},
	}
}
