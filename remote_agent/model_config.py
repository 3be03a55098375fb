"""Refuse model configs that ultralytics would evaluate or import by name, without importing torch.

``parse_model`` (ultralytics/nn/tasks.py) ``eval``s the ``activation`` string, resolves each layer's module by
name through ``globals()[m]`` / ``getattr(torch.nn, …)`` / ``torchvision.ops`` and calls it with the row's
arguments, and turns string arguments into values through ``locals()`` or ``ast.literal_eval``. A checkpoint keeps
that config (``model.yaml``) and training or fine-tuning from the checkpoint builds a model from it again, without
ultralytics' restricted mode; a model YAML file is the same dict. So the config is accepted only if every name in
it is one ultralytics itself defines and the activation is ``nn.Name(literal args)`` with Name a torch.nn activation.

The names are frozen here (``tests/library/hostile_layer_names.py`` regenerates them; a test compares them with the
installed ultralytics), because this module runs in the inspector, which must not import torch.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from remote_agent.checkpoint_scan import CheckpointError
from remote_agent.safe_pickle import InertObject

# fmt: off
_TASKS = """
    A2C2f AConv ADown AIFI BaseModel Bottleneck BottleneckCSP C1 C2 C2PSA C2f C2fAttn C2fCIB C2fPSA C3 C3Ghost
    C3TR C3k2 C3x CBFuse CBLinear ClassificationModel Classify Concat Conv Conv2 ConvTranspose DWConv
    DWConvTranspose2d Depth DepthModel Detect DetectionModel ELAN1 Ensemble Focus GhostBottleneck GhostConv
    HGBlock HGStem ImagePoolingAttn Index LRPCHead OBB OBB26 OBBModel PSA Pose Pose26 PoseModel RTDETRDecoder
    RTDETRDetectionModel RepC3 RepConv RepNCSPELAN4 RepVGGDW ResNetLayer SCDown SPP SPPELAN SPPF Segment
    Segment26 SegmentationModel SemanticSegment SemanticSegmentationLoss SemanticSegmentationModel TorchVision
    WorldDetect WorldModel YOLOEDetect YOLOEModel YOLOESegModel YOLOESegment YOLOESegment26 v10Detect
"""
_NN = """
    AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveLogSoftmaxWithLoss AdaptiveMaxPool1d
    AdaptiveMaxPool2d AdaptiveMaxPool3d AlphaDropout AvgPool1d AvgPool2d AvgPool3d BCELoss BCEWithLogitsLoss
    BatchNorm1d BatchNorm2d BatchNorm3d Bilinear CELU CTCLoss ChannelShuffle CircularPad1d CircularPad2d
    CircularPad3d ConstantPad1d ConstantPad2d ConstantPad3d Container Conv1d Conv2d Conv3d ConvTranspose1d
    ConvTranspose2d ConvTranspose3d CosineEmbeddingLoss CosineSimilarity CrossEntropyLoss CrossMapLRN2d
    DataParallel Dropout Dropout1d Dropout2d Dropout3d ELU Embedding EmbeddingBag FeatureAlphaDropout Flatten
    Fold FractionalMaxPool2d FractionalMaxPool3d GELU GLU GRU GRUCell GaussianNLLLoss GroupNorm Hardshrink
    Hardsigmoid Hardswish Hardtanh HingeEmbeddingLoss HuberLoss Identity InstanceNorm1d InstanceNorm2d
    InstanceNorm3d KLDivLoss L1Loss LPPool1d LPPool2d LPPool3d LSTM LSTMCell LayerNorm LazyBatchNorm1d
    LazyBatchNorm2d LazyBatchNorm3d LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d LazyConvTranspose2d
    LazyConvTranspose3d LazyInstanceNorm1d LazyInstanceNorm2d LazyInstanceNorm3d LazyLinear LeakyReLU Linear
    LinearCrossEntropyLoss LocalResponseNorm LogSigmoid LogSoftmax MSELoss MarginRankingLoss MaxPool1d MaxPool2d
    MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d Mish Module ModuleDict ModuleList MultiLabelMarginLoss
    MultiLabelSoftMarginLoss MultiMarginLoss MultiheadAttention NLLLoss NLLLoss2d PReLU PairwiseDistance
    ParameterDict ParameterList PixelShuffle PixelUnshuffle PoissonNLLLoss RMSNorm RNN RNNBase RNNCell
    RNNCellBase RReLU ReLU ReLU6 ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d
    ReplicationPad2d ReplicationPad3d SELU Sequential SiLU Sigmoid SmoothL1Loss SoftMarginLoss Softmax Softmax2d
    Softmin Softplus Softshrink Softsign SyncBatchNorm Tanh Tanhshrink Threshold Transformer TransformerDecoder
    TransformerDecoderLayer TransformerEncoder TransformerEncoderLayer TripletMarginLoss
    TripletMarginWithDistanceLoss Unflatten Unfold Upsample UpsamplingBilinear2d UpsamplingNearest2d ZeroPad1d
    ZeroPad2d ZeroPad3d
"""
_TORCHVISION_OPS = """
    Conv2dNormActivation Conv3dNormActivation DeformConv2d DropBlock2d DropBlock3d FeaturePyramidNetwork
    FrozenBatchNorm2d MLP MultiScaleRoIAlign PSRoIAlign PSRoIPool Permute RoIAlign RoIPool SqueezeExcitation
    StochasticDepth
"""
_ACTIVATIONS = """
    CELU ELU GELU GLU Hardshrink Hardsigmoid Hardswish Hardtanh LeakyReLU LogSigmoid LogSoftmax Mish Module
    MultiheadAttention NonDynamicallyQuantizableLinear PReLU RReLU ReLU ReLU6 SELU SiLU Sigmoid Softmax
    Softmax2d Softmin Softplus Softshrink Softsign Tanh Tanhshrink Threshold
"""
_PARSE_MODEL_LOCALS = """
    a act args ast base_modules block c1 c2 ch cm d default_act depth end2end f hidden_channels i j kpt_shape
    layers legacy m m_ max_channels n n_ nc reg_max repeat_modules restricted save scale scales t verbose width
"""
# fmt: on

# Layers ultralytics' namespace holds that build a whole model (a nested config) or are not layers at all.
_NOT_LAYERS = re.compile(r"(Model|Ensemble|Loss)$")
LAYER_NAMES = frozenset(
    [n for n in _TASKS.split() if not _NOT_LAYERS.search(n)]
    + [f"nn.{n}" for n in _NN.split()]
    + [f"torchvision.ops.{n}" for n in _TORCHVISION_OPS.split()]
)
ACTIVATIONS = frozenset(_ACTIVATIONS.split())
PARSE_MODEL_LOCALS = frozenset(_PARSE_MODEL_LOCALS.split())
_PLAIN_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")  # 'nearest', 'bilinear', torchvision model names
_MAX_STRING = 256
_MAX_ROWS = 10_000
_MAX_DEPTH = 8


def _refuse(why: str) -> CheckpointError:
    return CheckpointError("executable_code", f"contains executable code, refused: its model config {why}")


def check_activation(act: Any) -> None:
    """Accept only ``nn.Name(literals)`` / ``torch.nn.Name(literals)`` with Name a torch.nn activation class."""
    if not isinstance(act, str) or len(act) > _MAX_STRING:
        raise _refuse(f"has an activation that is not an nn.Name(...) call: {str(act)[:80]!r}")
    try:
        call = ast.parse(act.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise _refuse(f"has an activation that is not an nn.Name(...) call: {act[:80]!r}") from e
    func = call.func if isinstance(call, ast.Call) else None
    path: list[str] = []
    while isinstance(func, ast.Attribute):
        path.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        path.append(func.id)
    ok = isinstance(call, ast.Call) and path[1:] in (["nn"], ["nn", "torch"]) and path[0] in ACTIVATIONS
    if ok:
        values = [*call.args, *(k.value for k in call.keywords)]  # type: ignore[union-attr]
        ok = all(k.arg is not None for k in call.keywords) and all(_is_number_literal(v) for v in values)  # type: ignore[union-attr]
    if not ok:
        raise _refuse(f"has an activation ultralytics would evaluate as code: {act[:80]!r}")


def _is_number_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, bool, type(None))


def _check_string_arg(a: str) -> None:
    if a in PARSE_MODEL_LOCALS or _PLAIN_WORD.match(a):
        return
    if len(a) <= _MAX_STRING:
        try:
            ast.literal_eval(a)  # what parse_model itself does with it; a literal is data
            return
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    raise _refuse(f"has a layer argument that is neither a literal nor a plain word: {a[:80]!r}")


def _check_arg(a: Any, depth: int = 0) -> None:
    if a is None or type(a) in (bool, int, float):
        return
    if isinstance(a, str):
        _check_string_arg(a)
    elif isinstance(a, list | tuple) and depth < _MAX_DEPTH:
        for x in a:
            _check_arg(x, depth + 1)
    else:
        raise _refuse(f"has a layer argument of an unexpected kind ({type(a).__name__})")


def _check_from(f: Any) -> bool:
    return type(f) is int or (isinstance(f, list) and all(type(x) is int for x in f))


def check_model_config(cfg: dict[str, Any]) -> None:
    """Refuse a model config (a model YAML dict) that would make ultralytics run code while building it.

    Raises :class:`CheckpointError` ``("executable_code", …)``; returns None for a config built only from names
    ultralytics defines and literal values.
    """
    if not isinstance(cfg, dict):
        raise _refuse(f"is a {type(cfg).__name__}, not a mapping")
    act = cfg.get("activation")
    if act is not None and act is not False:
        check_activation(act)
    rows = []
    for part in ("backbone", "head"):
        value = cfg.get(part, [])
        if not isinstance(value, list):
            raise _refuse(f"has a {part} that is not a list of layers")
        rows.extend(value)
    if len(rows) > _MAX_ROWS:
        raise _refuse(f"has {len(rows):,} layers")
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) != 4:
            raise _refuse(f"has a layer row that is not [from, number, module, args]: {str(row)[:80]!r}")
        f, n, m, args = row
        if not isinstance(m, str) or m not in LAYER_NAMES:
            raise _refuse(f"names a module ultralytics does not define: {str(m)[:80]!r}")
        if not _check_from(f) or type(n) is not int:
            raise _refuse(f"has a layer row with a bad 'from' or 'number': {str(row)[:80]!r}")
        if not isinstance(args, list | tuple):
            raise _refuse(f"has layer arguments that are not a list: {str(args)[:80]!r}")
        _check_arg(list(args))


def _model_configs(ckpt: Any) -> list[Any]:
    models = [ckpt] if isinstance(ckpt, InertObject) else []
    if isinstance(ckpt, dict):
        models += [ckpt.get(k) for k in ("model", "ema")]
    return [m.attrs["yaml"] for m in models if isinstance(m, InertObject) and m.attrs.get("yaml") is not None]


def check_checkpoint_configs(ckpt: Any) -> None:
    """Check the model config kept inside a checkpoint's model and EMA (``model.yaml``) with :func:`check_model_config`."""
    for cfg in _model_configs(ckpt):
        check_model_config(cfg)
