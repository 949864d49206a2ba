package bpmn

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/model"
)

const miwgDir = "../../../../shared/conformance/bpmn-miwg"

var supportedMIWG = []string{"A.1.0", "A.2.0", "A.2.1", "A.4.0", "A.4.1", "C.1.1", "C.3.0", "C.7.0", "C.8.0", "C.8.1", "C.9.1"}

// rejectedMIWG lists, per file, exactly the unsupported elements we name.
// Elements inside an unsupported container (an event sub-process) are not
// listed separately.
var rejectedMIWG = map[string][]string{
	"A.3.0": {
		"unsupported element bpmn:escalationEventDefinition (_178e16eb-4c9e-4ea0-9644-7c5fb2b71825) in bpmn:boundaryEvent",
	},
	"B.1.0": {
		"unsupported element bpmn:callActivity (_1237e756-d53c-4591-a731-dafffbf0b3f9)",
		"unsupported element bpmn:callActivity (_ba16239e-181e-4b9f-bc5b-0bb2ee973450)",
		"unsupported element bpmn:callActivity (_fa3a8e53-5be0-4f0b-8680-d2498e255209)",
		"unsupported element bpmn:messageEventDefinition (_2ee553a1-cb03-41e3-b285-345c826fc88d) in bpmn:endEvent",
	},
	"B.2.0": {
		"unsupported element bpmn:callActivity (_1237e756-d53c-4591-a731-dafffbf0b3f9)",
		"unsupported element bpmn:callActivity (_a74c1d4d-db90-43ff-8920-139a300b39a5)",
		"unsupported element bpmn:callActivity (_ba16239e-181e-4b9f-bc5b-0bb2ee973450)",
		"unsupported element bpmn:conditionalEventDefinition (_68ca1f8b-5028-4079-9e35-619b529f4d71) in bpmn:boundaryEvent",
		"unsupported element bpmn:conditionalEventDefinition (_732c0641-b12f-448b-b9f8-a68b355782e3) in bpmn:boundaryEvent",
		"unsupported element bpmn:conditionalEventDefinition (_c9cb2415-6a2e-49d6-84b9-27babcde4088) in bpmn:intermediateCatchEvent",
		"unsupported element bpmn:conditionalEventDefinition (_cba8fbed-2bb6-40a9-8ac5-83e827ce9d9f) in bpmn:startEvent",
		"unsupported element bpmn:escalationEventDefinition (_3a19ce2d-e30d-461c-aeaa-b2acb118f9a4) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:escalationEventDefinition (_45ceee21-0f15-4bf8-87a9-b3f808173e61) in bpmn:boundaryEvent",
		"unsupported element bpmn:escalationEventDefinition (_708d55c8-684a-4e3b-a69d-69c620cd0ac0) in bpmn:boundaryEvent",
		"unsupported element bpmn:escalationEventDefinition (_dfb273c6-0ad3-4030-9e72-638adf7ca75f) in bpmn:endEvent",
		"unsupported element bpmn:eventBasedGateway (_be29f267-9d56-46ef-8bbc-e13513b25fce)",
		"unsupported element bpmn:inclusiveGateway (_10ecbff1-cd15-4a5c-9aa5-6f2a35479416)",
		"unsupported element bpmn:inclusiveGateway (_dec393e7-f182-4d31-b05f-e33ac3a5e35f)",
		"unsupported element bpmn:linkEventDefinition (_4f5e6e50-d9d0-4f97-959a-d1b8e1e32788) in bpmn:intermediateCatchEvent",
		"unsupported element bpmn:linkEventDefinition (_f27040d5-765c-493c-bbe7-9fb6ad04cbdc) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:messageEventDefinition (_796ccbc5-ad88-465c-849a-87447a0283d3) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:messageEventDefinition (_b67ba682-c8d6-465b-b538-c287db18d1be) in bpmn:endEvent",
		"unsupported element bpmn:messageEventDefinition (_c889aa27-e389-48eb-aa18-613ec53614e7) in bpmn:endEvent",
		"unsupported element bpmn:signalEventDefinition (_0326fdf5-7c71-41d9-838c-ab141a1b1ed0) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:signalEventDefinition (_209105e0-96fc-4278-8451-3b2a1dd18ec9) in bpmn:boundaryEvent",
		"unsupported element bpmn:signalEventDefinition (_25beeb17-acc3-4cca-9590-f1cd2f353434) in bpmn:startEvent",
		"unsupported element bpmn:signalEventDefinition (_5cc02d0f-c090-4e48-8da3-f32cbbca9565) in bpmn:endEvent",
		"unsupported element bpmn:signalEventDefinition (_8476a0f7-36b7-4666-a3b2-c18efcc68a94) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:signalEventDefinition (_e233b5e1-244d-422e-8886-4588b7566122) in bpmn:intermediateCatchEvent",
		"unsupported element bpmn:signalEventDefinition (_e454657a-0173-41a4-a4c7-d16ec224f2e1) in bpmn:boundaryEvent",
		"unsupported element bpmn:standardLoopCharacteristics (_b9343536-6490-4559-8365-71d5c4cbb7cb) in bpmn:userTask",
	},
	"C.1.0": {
		"unsupported element bpmn:eventBasedGateway (sid-F0D29912-929D-491C-8D23-73BD80CF980A)",
	},
	"C.2.0": {
		"unsupported element bpmn:messageEventDefinition (__4011aa2d-a7a9-4e1a-9f16-8a662d138bd4) in bpmn:endEvent",
		"unsupported element bpmn:messageEventDefinition (_f35ee29d-018c-47e2-afeb-eebc2e25925e) in bpmn:intermediateThrowEvent",
	},
	"C.4.0": {
		"unsupported element bpmn:messageEventDefinition (_5ee09fe4-f38f-454d-b6e4-1c3703a6a239) in bpmn:endEvent",
		"unsupported element bpmn:messageEventDefinition (_c82dd8eb-ce54-4aa7-b8c4-b8d3e8fd654e) in bpmn:endEvent",
		"unsupported element bpmn:messageEventDefinition (_efbd0983-76cd-4a4c-acf3-6dde71d7c760) in bpmn:endEvent",
		"unsupported element bpmn:signalEventDefinition (_3d4130c6-48c9-47fe-8e95-2eeb56060e2b) in bpmn:startEvent",
		"unsupported element bpmn:signalEventDefinition (_855451b0-5298-48b2-a81d-84ecbcca0a85) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:signalEventDefinition (_94a62738-dc7a-49f6-81d8-f5642f7ae850) in bpmn:startEvent",
		"unsupported element bpmn:signalEventDefinition (_e9306b3f-3a77-42e1-b53e-2ed8ee45486d) in bpmn:startEvent",
		"unsupported element bpmn:standardLoopCharacteristics (_788443d9-65f0-43a4-96a8-63e8d6f380a7) in bpmn:manualTask",
	},
	"C.5.0": {
		"unsupported element bpmn:callActivity (_b9338c62-a257-47dd-8c2e-88b80b73c330)",
		"unsupported element bpmn:signalEventDefinition (_1cf552d4-5152-4595-9218-84f31533bc70) in bpmn:endEvent",
		"unsupported element bpmn:signalEventDefinition (_8055ae64-cafd-4fd0-be36-2216e3b02e37) in bpmn:endEvent",
	},
	"C.6.0": {
		"unsupported element bpmn:compensateEventDefinition (_6a5cdbbf-2618-496e-b728-955dc215ef9d) in bpmn:intermediateThrowEvent",
		"unsupported element bpmn:compensateEventDefinition (_b25ecc7c-4eff-4a70-96f2-6b2f94cf19b1) in bpmn:boundaryEvent",
		"unsupported element bpmn:compensateEventDefinition (_fe3f9094-097b-416d-adeb-4b7e7e753f3c) in bpmn:boundaryEvent",
		"unsupported element bpmn:eventBasedGateway (_7ab6dbdf-f55b-4be6-bb41-d99793135c1d)",
		"unsupported element bpmn:subProcess (_e880bf53-84ca-4776-aa75-d1bf53172240) as event sub-process",
	},
	"C.9.0": {
		"unsupported element bpmn:callActivity (Activity_ManualCheck)",
		"unsupported element bpmn:subProcess (Activity_0vp33kx) as event sub-process",
		"unsupported element bpmn:subProcess (Activity_1ke2ixr) as event sub-process",
	},
	"C.9.2": {
		"unsupported element bpmn:subProcess (Activity_02a6b2h) as event sub-process",
		"unsupported element bpmn:subProcess (Activity_0uvp3cb) as event sub-process",
		"unsupported element bpmn:subProcess (Activity_1esx1s7) as event sub-process",
	},
}

func miwgFiles(t testing.TB) []string {
	files, _ := filepath.Glob(filepath.Join(miwgDir, "*.bpmn"))
	if len(files) == 0 {
		t.Skip("MIWG conformance files absent")
	}
	return files
}

func TestMIWGFilesAreWellFormedXML(t *testing.T) {
	for _, f := range miwgFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseTree(data); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

func TestMIWGSupportedDeploy(t *testing.T) {
	miwgFiles(t)
	for _, name := range supportedMIWG {
		data, err := os.ReadFile(filepath.Join(miwgDir, name+".bpmn"))
		if err != nil {
			t.Fatal(err)
		}
		def, err := Parse(data, Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(def.Display.Source) != len(data) || def.Key == "" {
			t.Errorf("%s: display source or key missing", name)
		}
	}
}

func TestMIWGRejectedNameEveryUnsupportedElement(t *testing.T) {
	files := miwgFiles(t)
	if len(files) != len(supportedMIWG)+len(rejectedMIWG) {
		t.Errorf("%d files, expected %d: update the lists", len(files), len(supportedMIWG)+len(rejectedMIWG))
	}
	for name, want := range rejectedMIWG {
		data, err := os.ReadFile(filepath.Join(miwgDir, name+".bpmn"))
		if err != nil {
			t.Fatal(err)
		}
		def, err := Parse(data, Options{})
		var ps model.Problems
		if def != nil || !errors.As(err, &ps) {
			t.Errorf("%s: deployed, want rejection", name)
			continue
		}
		if got := ps.Unsupported(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: unsupported\n got %q\nwant %q", name, got, want)
		}
	}
}
