# Run by TorchLoadTests with Debian's python3-torch: loads a lens folder as the tuned-lens package does
# (torch.load of params.pt, a strict load into Linear translators) and compares it with params.safetensors.
import torch, json, struct, sys
d = sys.argv[1]
sd = torch.load(d + '/params.pt', map_location='cpu')
print(type(sd).__name__, len(sd), list(sd)[:4])
raw = open(d + '/params.safetensors','rb').read()
n = struct.unpack('<Q', raw[:8])[0]; hdr = json.loads(raw[8:8+n]); base = 8+n
maxdiff = 0.0
for k, v in hdr.items():
    if k == '__metadata__': continue
    b, e = v['data_offsets']
    t = torch.frombuffer(bytearray(raw[base+b:base+e]), dtype=torch.float32).reshape(v['shape'])
    maxdiff = max(maxdiff, (t - sd[k]).abs().max().item())
    assert sd[k].dtype == torch.float32 and list(sd[k].shape) == v['shape'], k
print('keys equal', sorted(sd) == sorted(k for k in hdr if k != '__metadata__'), 'max abs diff', maxdiff)
print('0.weight', tuple(sd['0.weight'].shape), '0.bias', tuple(sd['0.bias'].shape), 'norm %.4f' % sd['0.weight'].norm().item())
print(json.load(open(d + '/config.json')))
# the package's own loading step: a fresh ModuleList of Linear(d, d) takes the state dict strictly
L = json.load(open(d + '/config.json'))['num_hidden_layers']; D = json.load(open(d + '/config.json'))['d_model']
m = torch.nn.ModuleList([torch.nn.Linear(D, D) for _ in range(L)])
print('strict load_state_dict:', m.load_state_dict(sd, strict=True))
print('ok')
