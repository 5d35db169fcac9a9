# ruff: noqa: RUF001 - full-width Chinese punctuation is the point of this table
"""中文 (Chinese): the words the director understands. Data only (see vocab.py); its replies are replies_zh.py.

The parser puts a space between Han characters and Latin letters or digits ("5秒" -> "5 秒"), so these
patterns allow ``\\s*`` there; Chinese has no word boundaries, so look-arounds keep 快 out of 欢快 and 快手.
"""

from __future__ import annotations

import re

from .replies_zh import REPLIES
from .vocab import Vocabulary

__all__ = ["VOCABULARY"]

_CN = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "[零一二两三四五六七八九十百]+"


def _number(word: str) -> int:
    """五 -> 5, 十五 -> 15, 二十 -> 20, 一百 -> 100 (enough for seconds, frames and percentages)."""
    total = digit = 0
    for ch in word:
        if ch in _CN:
            digit = _CN[ch]
        elif ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
    return total + digit


def _digits(text: str) -> str:
    text = text.replace("半分钟", "30秒")
    text = re.sub(rf"百分之\s*({_CN_NUM}|\d+)", lambda m: f"{m[1] if m[1].isdigit() else _number(m[1])}%", text)
    return re.sub(rf"({_CN_NUM})\s*(?=秒|分钟|帧|倍)", lambda m: str(_number(m[1])), text)


_TEXT = r"(?:标题|字幕|文字|文案|标语|qtext)"
_VERB = r"(?:推进|推近|放大|聚焦|特写|拉近|对准|推向|推到)\s*(?:到|在|至)?\s*"
_TO = r"(?:向|推向|推到|移向|聚焦|对准|朝|到)\s*(?:画面)?的?\s*"
_COLOURS = {"白色|纯白": "#ffffff", "黑色": "#111111", "黄色": "#ffd23f", "红色": "#e63946", "蓝色": "#3a86ff",
            "绿色": "#2ec4b6", "橙色": "#fb8500", "粉色|粉红色": "#ff70a6", "金色": "#e9c46a"}  # fmt: skip

VOCABULARY = Vocabulary(
    code="zh",
    digits=_digits,
    durations=((r"(?<![\d.])(\d+(?:\.\d+)?)\s*秒", 1.0), (r"(?<![\d.])(\d+(?:\.\d+)?)\s*分钟", 60.0)),
    fps=r"(?:每秒\s*)?(\d+(?:\.\d+)?)\s*帧|帧率\s*(?:为|是)?\s*(\d+(?:\.\d+)?)",
    platforms=(
        (r"竖屏|竖版|竖向|抖音|快手|视频号|手机全屏", "9:16"),
        (r"小红书", "4:5"),
        (r"正方形|方形|方屏", "1:1"),
        (r"横屏|横版|宽屏|哔哩哔哩|b\s*站|西瓜视频", "16:9"),
    ),
    moves=(
        (r"肯\s*伯恩斯", "ken_burns"),
        (r"旋转镜头|旋转环绕", "orbit"),
        (r"希区柯克\s*(?:变焦)?|滑动变焦|推拉变焦|眩晕\s*(?:效果|镜头)", "dolly_zoom"),
        (r"(?:3d|立体|纵深)\s*(?:推进|推近|推镜)", "push_3d"),
        (r"主体\s*(?:突出|弹出|跳出)|抠图|弹出效果", "pop"),
        (r"视差|立体|3d\s*运镜|3d|2\.5d|环绕|环拍|绕着", "parallax"),
        (r"拉远|拉出|后拉|镜头后退|拉开", "pull_out"),
        (r"(?:向|往)左(?:平移|移动?|摇)|左移|左摇", "pan_left"),
        (r"(?:向|往)右(?:平移|移动?|摇)|右移|右摇", "pan_right"),
        (r"(?:向|往)上(?:平移|移动?|摇)|上移|上摇", "pan_up"),
        (r"(?:向|往)下(?:平移|移动?|摇)|下移|下摇", "pan_down"),
        (r"平移|横移|摇镜", "pan?"),
        (r"静止|固定镜头|镜头不动|不要运镜|静态", "static"),
        (r"(?:从)?(?:全景|远景|广角)\s*(?:开始|起)", "wide"),
        (r"停留|定格|停住|保持不动", "hold"),
        (r"推进|推近|拉近|推镜|镜头推|(?<!标题)放大(?!标题|字|文字)", "push_in"),
    ),
    speeds=(
        (r"更慢|慢一点|慢一些|再慢", "slower"),
        (r"更快|快一点|快一些|再快", "faster"),
        (r"缓慢|慢慢|缓缓|慢速|(?<![欢轻愉])慢", "slow"),
        (r"快速|迅速|(?<![欢轻愉凉])快(?!手)", "fast"),
    ),
    eases=(
        (r"匀速", "linear"),
        (r"平滑|顺滑|丝滑|流畅", "ease_in_out"),
        (r"加速", "ease_in"),
        (r"减速|缓停", "ease_out"),
    ),
    focus=(
        (_TO + r"左上(?:角|方)?", (0.25, 0.25)),
        (_TO + r"右上(?:角|方)?", (0.75, 0.25)),
        (_TO + r"左下(?:角|方)?", (0.25, 0.75)),
        (_TO + r"右下(?:角|方)?", (0.75, 0.75)),
        (_TO + r"(?:顶部|上方)", (0.5, 0.25)),
        (_TO + r"(?:底部|下方)", (0.5, 0.75)),
        (_TO + r"(?:左侧|左边)", (0.25, 0.5)),
        (_TO + r"(?:右侧|右边)", (0.75, 0.5)),
        (_TO + r"(?:中间|中心)", (0.5, 0.5)),
    ),
    targets=(
        (_VERB + r"(?:人物的?|模特的?|她的?|他的?)?(?:脸部|面部|人脸|脸)|(?:脸部|面部|人脸)\s*特写", "face"),
        (_VERB + r"(?:logo|标志|商标|文字|招牌)", "text"),
        (_VERB + r"(?:产品|商品|瓶子|主体|杯子|鞋子|手表)|(?:产品|商品)\s*特写", "subject"),
    ),
    text=_TEXT,
    labelled=r"(?:标题|字幕)\s*[:：]\s*([^，。；,.;\n]{1,60})",
    no_text=r"(?:不要|去掉|删除|删掉|移除|无)\s*(?:标题|字幕|文字)",
    positions=(
        (r"左上(?:角|方)?", "top_left"),
        (r"右上(?:角|方)?", "top_right"),
        (r"左下(?:角|方)?", "bottom_left"),
        (r"右下(?:角|方)?", "bottom_right"),
        (r"顶部|上方|顶端|最上面", "top"),
        (r"底部|下方|底端|最下面", "bottom"),
        (r"中间|居中|正中|中央", "center"),
        (r"左侧|左边", "left"),
        (r"右侧|右边", "right"),
    ),
    place=(
        r"{text}[^，。；,.;!?！？]{{0,12}}?(?:放在|放到|在|位于|移到|移至|置于)?\s*(?:画面)?的?\s*(?:{pos})",
        r"(?:{pos})的?\s*{text}",
    ),
    sizes=(
        (r"大一点|大一些|更大|放大|加大", "bigger"),
        (r"小一点|小一些|更小|缩小", "smaller"),
        (r"大字|大号|醒目|粗体", "big"),
        (r"小字|小号", "small"),
    ),
    colours=tuple((word, hex_) for word, hex_ in _COLOURS.items()),
    colour_place=(r"(?:{colour})的?\s*{text}", r"{text}\s*(?:用|为|是|改成|换成|改为|设为)?\s*(?:{colour})"),
    looks=(
        (r"黑白|单色|灰度", "bw"),
        (r"复古|怀旧|胶片|老照片", "vintage"),
        (r"高对比|强对比|对比度高", "contrast"),
        (r"暖色调?|暖调|温暖|暖黄", "warm"),
        (r"冷色调?|冷调|清冷", "cool"),
    ),
    life=(
        (r"电影感", "grain+letterbox"),
        (r"胶片\s*颗粒|颗粒感|噪点", "grain"),
        (r"宽银幕|遮幅|上下黑边|黑边", "letterbox"),
        (r"漏光", "light_leak"),
        (r"梦幻|如梦", "light_leak+bokeh"),
        (r"光斑|闪光|闪闪|粒子|散景", "bokeh"),
    ),
    vignette=((r"(?:轻微|淡淡的|柔和的?)\s*暗角", "0.2"), (r"(?:强烈的?|重)\s*暗角", "0.5"), (r"暗角|晕影", "0.35")),
    fades=(
        (r"无缝循环|循环播放|循环|交叉淡化", "loop"),
        (r"淡入淡出|渐显渐隐", "fade_both"),
        (r"淡入|渐显|从黑场?开始", "fade_in"),
        (r"淡出|渐隐|黑场结束|渐黑", "fade_out"),
    ),
    styles=(
        (r"高级感?|高端|质感|精致", "premium"),
        (r"奢华|奢侈|豪华", "luxury"),
        (r"动感|活力|炫酷", "energetic"),
        (r"俏皮|可爱|有趣|活泼", "playful"),
        (r"电影感|大片感", "cinematic"),
        (r"宁静|治愈", "calm"),
    ),
    music=r"背景音乐|音乐|配乐|bgm|歌曲|歌|音效|声音|曲子",
    no_music=r"(?:不要|去掉|删除|删掉|移除|关掉|无|没有)\s*(?:背景)?(?:音乐|配乐|bgm|声音)|静音",
    moods=(
        (r"lo\s*-?\s*fi|爵士|慵懒", "lofi"),
        (r"轻快|欢快|欢乐|流行|节奏感", "upbeat"),
        (r"舒缓|安静|轻柔|放松|钢琴|温柔", "calm"),
        (r"史诗|电影|大气|激昂|震撼", "cinematic"),
    ),
    trending=r"(?:热门|流行|爆款|火爆)\s*(?:音乐|歌曲?|bgm|配乐|音效)|热歌|神曲",
    volume=r"(\d+(?:\.\d+)?)\s*%|音量\s*(?:调到|调至|为|设为|设成|到)?\s*(\d+(?:\.\d+)?)",
    louder=(
        (r"大声|响一点|音量(?:调)?(?:大|高)|加大音量|调高音量", "up"),
        (r"小声|轻一点|音量(?:调)?(?:小|低)|降低音量|调低音量", "down"),
    ),
    length=r"长一点|短一点|加长|缩短|更长|更短",
    unsupported=(
        (r"配音|旁白|解说|朗读", "voiceover"),
        (r"转场", "transitions"),
        (r"特效|烟花|雪花|下雨|火焰|故障风|贴纸|表情包", "effects"),
        (r"(?:加|添加|放)\s*(?:logo|水印|标志)|水印", "logo"),
        (r"慢动作|倒放|倒带|变速", "time"),
        (r"模糊|虚化|景深", "blur"),
        (r"调色|滤镜", "grading"),
        (r"无人机|航拍|鸟瞰|俯瞰|飞越|飞过|穿梭", "flight"),
        (r"手持|晃动|抖动|摇晃|震动", "shake"),
        (r"360\s*度|三百六十度|转盘|旋转展示|自转", "spin"),
        (r"跟拍|跟随镜头|跟镜头|摇臂|升降镜头", "tracking"),
    ),
    generic=r"视频|动画|生成|制作|做成|做一个|动起来|图片|照片|这张图",
    replies=REPLIES,
)
