#nullable enable
// Inline MSBuild task (see TorchSharpNativeFix.targets). Compiled by RoslynCodeTaskFactory.
using System;
using System.IO;
using System.Text;
public class MarkGlibcxxNeedWeak : Microsoft.Build.Utilities.Task
{
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = System.Array.Empty<Microsoft.Build.Framework.ITaskItem>();
    public string Version { get; set; } = "";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibstdcxxPaths =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        string? lib = null;
        foreach (var p in LibstdcxxPaths) if (File.Exists(p)) { lib = p; break; }
        if (lib == null)
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "libstdc++.so.6 not found; TorchSharp native left as is.");
            return true;
        }
        if (Contains(File.ReadAllBytes(lib), Encoding.ASCII.GetBytes(Version + "\0")))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, lib + " has " + Version + "; nothing to patch.");
            return true;
        }
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                int changed = MarkWeak(bytes, Version);
                if (changed > 0)
                {
                    var tmp = path + ".patching";
                    File.WriteAllBytes(tmp, bytes);
                    File.Delete(path);
                    File.Move(tmp, path);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "Marked " + Version + " need weak in " + path);
                }
            }
            catch (Exception e)
            {
                Log.LogError("Could not patch " + path + ": " + e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    static bool Contains(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    /// Returns how many Vernaux entries were changed (0 if already weak or absent).
    static int MarkWeak(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not a little-endian ELF64 file");
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strOffset = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            long vn = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long name = strOffset + BitConverter.ToUInt32(elf, (int)aux + 8);
                    int end = (int)name;
                    while (elf[end] != 0) end++;
                    if (Encoding.ASCII.GetString(elf, (int)name, end - (int)name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            flags |= VerFlgWeak;
                            elf[aux + 4] = (byte)(flags & 0xff);
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed++;
                        }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                vn += BitConverter.ToUInt32(elf, (int)vn + 12);
            }
        }
        return changed;
    }
}
