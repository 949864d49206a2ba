package bpmn

// Namespaces we read. Activiti and Flowable use the same attribute names as
// Camunda 7, so the three are read alike ("juel vendors").
const (
	nsBPMN     = "http://www.omg.org/spec/BPMN/20100524/MODEL"
	nsCamunda  = "http://camunda.org/schema/1.0/bpmn"
	nsZeebe    = "http://camunda.org/schema/zeebe/1.0"
	nsActiviti = "http://activiti.org/bpmn"
	nsFlowable = "http://flowable.org/bpmn"
	// NSGuanjia is our own extension namespace (guanjia:nextSteps,
	// guanjia:materials, guanjia:formField, guanjia:type, guanjia:calendar,
	// guanjia:correlationKey ...).
	NSGuanjia = "http://guanjia.dev/bpmn"
)

// vendors is the order in which vendor attributes are looked up: ours first
// so an author can override what a modeler wrote.
var vendors = []string{NSGuanjia, nsCamunda, nsFlowable, nsActiviti}
