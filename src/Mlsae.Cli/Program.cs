using System.Reflection;
var asm = typeof(TorchSharp.torch).Assembly;
var pats = args;
foreach (var t in asm.GetExportedTypes())
foreach (var m in t.GetMembers(BindingFlags.Public|BindingFlags.Static|BindingFlags.Instance|BindingFlags.DeclaredOnly))
{
    var s = t.FullName + "::" + m.ToString();
    if (pats.Any(p => s.Contains(p))) Console.WriteLine(s);
}
