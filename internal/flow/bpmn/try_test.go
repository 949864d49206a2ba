package bpmn
import ("testing";"os";"path/filepath";"fmt";"errors";"github.com/guanjia/guanjia/internal/flow/model")
func TestTry(t *testing.T){
 files,_:=filepath.Glob("/work/shared/conformance/bpmn-miwg/*.bpmn")
 for _,f:=range files{ data,_:=os.ReadFile(f); def,err:=Parse(data,Options{}); var ps model.Problems
  if errors.As(err,&ps){ fmt.Println(filepath.Base(f), "PROBLEMS"); for _,p:=range ps{fmt.Println("   ",p)} } else { fmt.Println(filepath.Base(f),"OK",len(def.Elements)) } }
}
